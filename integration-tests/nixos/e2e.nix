# The whole chain in VMs: nixpkgs' real Vikunja and NATS on `server` with our server role
# (the bus opened to the network with NKey authorization, Jaeger, Prometheus and Grafana),
# and two Taskwarrior machines `laptop` and `desk` (user alice; server.enable left at its
# default) on that bus, exporting their traces to the server's Jaeger.
#   nix build .#checks.x86_64-linux.e2e        (the flake imports the module into every node)
#   nix build .#checks.x86_64-linux.e2e.driverInteractive && ./result/bin/nixos-test-driver
{ lib, ... }:
let
  tokenPath = "/var/lib/vikunja-sync-test/vikunja-token";
  keys = import ./test-nkeys.nix;
  # test secrets may live in the store; real ones come from sops-nix, agenix, ...
  secret = text: {
    inherit text;
    mode = "0400";
  };

  # laptop and desk: alice's Taskwarrior, synced over the server's bus
  taskwarriorHost =
    hostId:
    { pkgs, ... }:
    {
      users.users.alice = {
        isNormalUser = true;
        uid = 1000;
      };
      services.vikunja-sync = {
        enable = true;
        bus.url = "nats://server:4222";
        telemetry.otlpEndpoint = "http://server:4317";
        # hostId: "<host name>-alice", the default
        taskwarrior.users.alice = {
          credentialsFile = "/etc/vikunja-sync-test/bus.nk";
          settings.metrics.listen = "0.0.0.0:9474";
        };
      };
      environment.etc."vikunja-sync-test/bus.nk" = secret keys.${hostId}.seed;
      networking.firewall.allowedTCPPorts = [ 9474 ];
      environment.systemPackages = [
        pkgs.jq
        pkgs.natscli
      ];
    };
in
{
  name = "vikunja-sync-e2e";

  nodes = {
    server =
      { pkgs, ... }:
      {
        imports = [ ./vikunja.nix ];
        virtualisation.memorySize = 3072;

        services.vikunja-sync = {
          enable = true;
          bus.credentialsFile = "/etc/vikunja-sync-test/server.nk";
          server = {
            enable = true;
            nats = {
              enable = true;
              openFirewall = true;
              authorization = {
                enable = true;
                serverKey = keys.server.publicKey;
                hosts = {
                  laptop-alice.publicKey = keys.laptop-alice.publicKey;
                  desk-alice.publicKey = keys.desk-alice.publicKey;
                };
              };
            };
            vikunja = {
              tokenFile = tokenPath;
              webhookSecretFile = "/etc/vikunja-sync-test/webhook-secret";
            };
            reconcileInterval = "10s";
            jaeger = {
              enable = true;
              listenAddress = "0.0.0.0";
              openFirewall = true;
            };
            grafana = {
              enable = true;
              secretKeyFile = "/etc/vikunja-sync-test/grafana-secret-key";
            };
            metrics.watcherTargets = [
              "laptop:9474"
              "desk:9474"
            ];
          };
        };

        environment.etc = {
          "vikunja-sync-test/webhook-secret" = secret "e2e-webhook-secret";
          "vikunja-sync-test/server.nk" = secret keys.server.seed;
          "vikunja-sync-test/laptop.nk" = secret keys.laptop-alice.seed;
          "vikunja-sync-test/grafana-secret-key" = secret "e2e-grafana-secret-key";
        };

        # reconciler and label-sync need the API token the test script creates
        # through the Vikunja API first; the script starts them
        systemd.services.vikunja-sync-reconciler.wantedBy = lib.mkForce [ ];
        systemd.services.vikunja-sync-label-sync.wantedBy = lib.mkForce [ ];

        environment.systemPackages = [
          pkgs.jq
          pkgs.natscli
        ];
      };

    laptop = taskwarriorHost "laptop-alice";
    desk = taskwarriorHost "desk-alice";
  };

  testScript =
    builtins.readFile ./helpers.py
    + ''

      HOSTS = ["laptop-alice", "desk-alice"]
      SERVER_SEED = "/etc/vikunja-sync-test/server.nk"
      LAPTOP_SEED = "/etc/vikunja-sync-test/laptop.nk"

      start_all()

      with subtest("server: NATS, the ingress, Jaeger and Grafana are up"):
          server.wait_for_unit("nats.service")
          server.wait_for_open_port(4222)
          server.wait_for_unit("vikunja-sync-webhook-ingress.service")
          server.wait_for_open_port(8471)
          server.succeed("curl --fail --silent http://127.0.0.1:8471/healthz")
          server.wait_for_unit("vikunja-sync-jaeger.service")
          server.wait_for_open_port(16686)
          server.wait_for_unit("grafana.service")
          server.wait_for_open_port(3000)

      with subtest("the bus refuses anonymous clients, from the network too"):
          for machine, url in ((server, "nats://127.0.0.1:4222"), (laptop, "nats://server:4222")):
              out = machine.fail(nats("pub vsync.v1.in.tw.x.y.task.created hello 2>&1", server=url))
              assert "uthorization" in out, out

      with subtest("the server identity connects; a host's may not write canonical state"):
          # the whole permission table is tried on a real nats-server by
          # .ci/check-bus-authorization.py; the sync below shows it is enough for the watchers
          server.succeed(nats("account info", seed=SERVER_SEED))
          server.fail(nats("kv put vsync_tasks forged x", seed=LAPTOP_SEED))

      with subtest("provision a Vikunja user and API token, then start reconciler and label-sync"):
          jwt = provision_vikunja(server, "${tokenPath}")
          inbox = ensure_project(server, jwt, "Inbox")
          server.systemctl("start vikunja-sync-reconciler.service vikunja-sync-label-sync.service")
          server.wait_for_unit("vikunja-sync-reconciler.service")
          server.wait_for_unit("vikunja-sync-label-sync.service")

      with subtest("the watchers run as system units as alice, each with its own host id"):
          for host, host_id in ((laptop, "laptop-alice"), (desk, "desk-alice")):
              wait_for_watcher(host)
              assert unit_property(host, "vikunja-sync-tw-watcher@alice.service", "User") == "alice"
              host.succeed("test -L /home/alice/.task/hooks/on-exit.vikunja-sync")
              assert task(host, "_get rc.uda.vikunja_id.type").strip() == "numeric"
              host.succeed(f"grep -qx 'host = \"{host_id}\"' /etc/vikunja-sync/tw-watcher/alice.toml")

      with subtest("one change is one trace: ingress -> reconciler -> both watchers, in Jaeger"):
          services = ["webhook-ingress", "reconciler", "tw-watcher"]
          server.succeed(traces_spanning(services, HOSTS) + " > /tmp/traces-before")
          vikunja(server, "PUT", f"/projects/{inbox}/tasks", token=jwt, body={"title": "traced change"})
          for host in (laptop, desk):
              wait_for_tw_task(host, "traced change", "(.vikunja_id // 0) > 0")
          server.wait_until_succeeds(
              traces_spanning(services, HOSTS) + " | grep -vxFf /tmp/traces-before | grep -q .",
              timeout=120,
          )

      with subtest("a task created through the Vikunja API appears on both hosts"):
          vikunja(server, "PUT", f"/projects/{inbox}/tasks", token=jwt, body={"title": "from vikunja"})
          for host in (laptop, desk):
              wait_for_tw_task(host, "from vikunja", "(.vikunja_id // 0) > 0")

      with subtest("task add on laptop appears in Vikunja and on desk"):
          task(laptop, "add 'from laptop'")
          wait_for_vikunja_task(server, jwt, "from laptop")
          wait_for_tw_task(desk, "from laptop")

      with subtest("Grafana shows the dashboard; Prometheus has the latencies of every direction"):
          server.succeed(
              "curl --fail --silent -u admin:admin http://127.0.0.1:3000/api/dashboards/uid/vikunja-sync"
              " | jq -e '.dashboard.panels | length > 0'"
          )
          for uid in ("vsync-prometheus", "vsync-jaeger"):
              server.succeed(f"curl --fail --silent -u admin:admin http://127.0.0.1:3000/api/datasources/uid/{uid}")
          for direction in ("vikunja_to_tw", "tw_to_vikunja", "tw_to_tw"):
              query = f'sum(vsync_e2e_latency_seconds_count{{direction="{direction}"}})'
              server.wait_until_succeeds(
                  f"curl --fail --silent http://127.0.0.1:9090/api/v1/query --data-urlencode {shlex.quote('query=' + query)}"
                  " | jq -e '.data.result[0].value[1] | tonumber > 0'",
                  timeout=120,
              )
          server.wait_until_succeeds(
              "curl --fail --silent http://127.0.0.1:9090/api/v1/query"
              " --data-urlencode 'query=jetstream_consumer_num_pending{consumer_name=\"host-laptop-alice\"}'"
              " | jq -e '.data.result | length == 1'",
              timeout=120,
          )

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
