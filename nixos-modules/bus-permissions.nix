# What each identity may do on the bus, as NATS user permissions (nats-server's
# `authorization.users[].permissions`): the table of the Rust crate vsync-bus-auth
# (crates/bus-auth/src/permissions.rs), which renders it into permissions.json next to it
# and fails its tests when that file is stale. `vikunja-sync bus config` renders the same
# table, so a bus configured here and one configured by hand agree. Roles: the server
# (webhook-ingress, reconciler, label-sync) may do everything; the operator (the admins'
# CLI) reads and sends control requests; a Taskwarrior host publishes only its own events,
# follows canonical state through its own durable consumer and answers its own control
# requests. The table in prose: docs/SECURITY.md.
{ lib }:
let
  table = builtins.fromJSON (builtins.readFile ../crates/bus-auth/permissions.json);
  # the host id replaces the placeholder in every string of the host's entry
  fill =
    host: v:
    if builtins.isString v then
      builtins.replaceStrings [ "@host@" ] [ host ] v
    else if builtins.isList v then
      map (fill host) v
    else if builtins.isAttrs v then
      lib.mapAttrs (_: fill host) v
    else
      v;
in
{
  inherit (table) server operator;

  # `host`: the host id (`[A-Za-z0-9_-]+`, so it is its own subject token)
  host = host: fill host table.host;
}
