# The whole chain in VMs: nixpkgs' real Vikunja and NATS on `server` with our
# server role, and two Taskwarrior machines `laptop` and `desk` (user alice) on
# the same bus.
#   nix build .#checks.x86_64-linux.e2e        (the flake imports the module into every node)
#   nix build .#checks.x86_64-linux.e2e.driverInteractive && ./result/bin/nixos-test-driver
{ lib, ... }:
let
  tokenPath = "/var/lib/vikunja-sync-test/vikunja-token";

  # laptop and desk: alice's Taskwarrior, synced over the server's bus
  taskwarriorHost =
    { pkgs, ... }:
    {
      users.users.alice = {
        isNormalUser = true;
        uid = 1000;
      };
      services.vikunja-sync = {
        enable = true;
        server.enable = false;
        bus.url = "nats://server:4222";
        # hostId defaults to the host name: "laptop", "desk"
        taskwarrior.users.alice = { };
      };
      environment.systemPackages = [ pkgs.jq ];
    };
in
{
  name = "vikunja-sync-e2e";

  nodes = {
    server =
      { pkgs, ... }:
      {
        imports = [ ./vikunja.nix ];
        virtualisation.memorySize = 2048;

        services.vikunja-sync = {
          enable = true;
          server = {
            nats = {
              enable = true;
              openFirewall = true;
            };
            vikunja = {
              tokenFile = tokenPath;
              webhookSecretFile = "/etc/vikunja-sync-test/webhook-secret";
            };
            reconcileInterval = "10s";
          };
        };

        # a test secret may live in the store; a real one comes from sops-nix, agenix, ...
        environment.etc."vikunja-sync-test/webhook-secret" = {
          text = "e2e-webhook-secret";
          mode = "0400";
        };

        # reconciler and label-sync need the API token the test script creates
        # through the Vikunja API first; the script starts them
        systemd.services.reconciler.wantedBy = lib.mkForce [ ];
        systemd.services.label-sync.wantedBy = lib.mkForce [ ];

        environment.systemPackages = [
          pkgs.jq
          pkgs.natscli
        ];
      };

    laptop = taskwarriorHost;
    desk = taskwarriorHost;
  };

  testScript =
    builtins.readFile ./helpers.py
    + ''

      start_all()

      with subtest("server: Vikunja, NATS and the ingress are up"):
          server.wait_for_unit("nats.service")
          server.wait_for_open_port(4222)
          server.wait_for_unit("webhook-ingress.service")
          server.wait_for_open_port(8471)
          server.succeed("curl --fail --silent http://127.0.0.1:8471/healthz")

      with subtest("provision a Vikunja user and API token, then start reconciler and label-sync"):
          jwt = provision_vikunja(server, "${tokenPath}")
          inbox = ensure_project(server, jwt, "Inbox")
          server.systemctl("start reconciler.service label-sync.service")
          server.wait_for_unit("reconciler.service")
          server.wait_for_unit("label-sync.service")

      with subtest("the watchers run as alice's user services, without a login"):
          for host in (laptop, desk):
              wait_for_watcher(host)
              host.succeed("test -L /home/alice/.task/hooks/on-exit.vikunja-sync")
              assert task(host, "_get rc.uda.vikunja_id.type").strip() == "numeric"

      with subtest("a task created through the Vikunja API appears on both hosts"):
          vikunja(server, "PUT", f"/projects/{inbox}/tasks", token=jwt, body={"title": "from vikunja"})
          for host in (laptop, desk):
              wait_for_tw_task(host, "from vikunja", "(.vikunja_id // 0) > 0")

      with subtest("task add on laptop appears in Vikunja and on desk"):
          task(laptop, "add 'from laptop'")
          wait_for_vikunja_task(server, jwt, "from laptop")
          wait_for_tw_task(desk, "from laptop")

      with subtest("desk offline, changes made, desk back: it catches up"):
          desk.shutdown()
          # in Vikunja: a new task, and "from vikunja" done
          vikunja(server, "PUT", f"/projects/{inbox}/tasks", token=jwt, body={"title": "while desk was away"})
          done = find_vikunja_task(server, jwt, "from vikunja")
          done["done"] = True
          vikunja(server, "POST", f"/tasks/{done['id']}", token=jwt, body=done)
          # on laptop: a new task
          task(laptop, "add 'laptop while desk was away'")
          wait_for_vikunja_task(server, jwt, "laptop while desk was away")
          wait_for_tw_task(laptop, "from vikunja", '.status == "completed"')
          wait_for_tw_task(laptop, "while desk was away")

          desk.start()
          wait_for_watcher(desk)
          wait_for_tw_task(desk, "while desk was away")
          wait_for_tw_task(desk, "laptop while desk was away")
          wait_for_tw_task(desk, "from vikunja", '.status == "completed"')
    '';
}
