# What each identity may do on the bus, as NATS user permissions (nats-server's
# `authorization.users[].permissions`). Two identities: the server (webhook-ingress,
# reconciler, label-sync, the admins' CLI) may do everything; a Taskwarrior host may publish
# only its own events, follow canonical state through its own durable consumer and answer
# its own control requests. Subjects: docs/ARCHITECTURE.md section 4; the table is in
# docs/NIXOS.md, "Bus authorization".
{ lib }:
let
  tasksStream = "KV_vsync_tasks";
in
{
  server = {
    publish.allow = [ ">" ];
    subscribe.allow = [ ">" ];
  };

  # `host`: the host id (`[A-Za-z0-9_-]+`, so it is its own subject token)
  host =
    host:
    let
      consumer = "host-${host}";
    in
    {
      publish = {
        allow = [
          # its own events (a JetStream publish; the ack comes back to its inbox)
          "vsync.v1.in.tw.${host}.>"
          "vsync.v1.applied.${host}"
          # looking up the streams and buckets it uses (never creating them)
          "$JS.API.INFO"
          "$JS.API.STREAM.INFO.*"
          # its durable consumer on canonical state, and the ordered consumers of a listing
          "$JS.API.CONSUMER.DURABLE.CREATE.${tasksStream}.${consumer}"
          "$JS.API.CONSUMER.CREATE.${tasksStream}"
          "$JS.API.CONSUMER.CREATE.${tasksStream}.>"
          "$JS.API.CONSUMER.INFO.${tasksStream}.>"
          "$JS.API.CONSUMER.MSG.NEXT.${tasksStream}.${consumer}"
          "$JS.ACK.${tasksStream}.${consumer}.>"
          "$JS.FC.${tasksStream}.>"
          # reading single canonical states
          "$JS.API.DIRECT.GET.${tasksStream}"
          "$JS.API.DIRECT.GET.${tasksStream}.>"
          "$JS.API.STREAM.MSG.GET.${tasksStream}"
        ];
        # spelled out although nothing above allows them: never a canonical state, a
        # correlation or a label of its own making, and no reconciler control
        deny = [
          "$KV.>"
          "vsync.v1.ctl.reconciler.>"
          "$JS.API.STREAM.CREATE.>"
          "$JS.API.STREAM.DELETE.>"
          "$JS.API.CONSUMER.DELETE.>"
        ];
      };
      subscribe.allow = [
        # replies: its JetStream API answers, pulled messages, acks of its publishes. A host
        # sees every canonical state anyway, so other clients' inbox traffic tells it nothing
        # it does not already receive.
        "_INBOX.>"
        "vsync.v1.ctl.tw.${host}.>"
        "vsync.v1.ctl.tw.reconcile"
      ];
      # answering control requests without being allowed to publish to inboxes at large
      allow_responses = true;
    };
}
