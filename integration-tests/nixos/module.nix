# The NixOS module on one machine: server role, local NATS, nixpkgs' Vikunja and
# one Taskwarrior user. Every unit starts and reports ready, the sandboxing is in
# place, secrets arrive as credentials and never appear in a rendered config.
#   nix build .#checks.x86_64-linux.module
{ lib, ... }:
let
  tokenPath = "/var/lib/vikunja-sync-test/vikunja-token";
  webhookSecret = "module-test-webhook-secret";
  serverUnits = [
    "webhook-ingress.service"
    "reconciler.service"
    "label-sync.service"
  ];
in
{
  name = "vikunja-sync-module";

  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ ./vikunja.nix ];
      virtualisation.memorySize = 2048;

      users.users.alice = {
        isNormalUser = true;
        uid = 1000;
      };

      services.vikunja-sync = {
        enable = true;
        server = {
          nats.enable = true;
          vikunja = {
            tokenFile = tokenPath;
            webhookSecretFile = "/etc/vikunja-sync-test/webhook-secret";
          };
        };
        taskwarrior.users.alice = { };
      };

      environment.etc."vikunja-sync-test/webhook-secret" = {
        text = webhookSecret;
        mode = "0400";
      };

      # they need the API token the test script creates through the Vikunja API
      systemd.services.reconciler.wantedBy = lib.mkForce [ ];
      systemd.services.label-sync.wantedBy = lib.mkForce [ ];

      environment.systemPackages = [ pkgs.jq ];
    };

  testScript =
    builtins.readFile ./helpers.py
    + ''

      SERVER_UNITS = ${builtins.toJSON serverUnits}
      CREDENTIALS = {
          "webhook-ingress.service": ["webhook-secret"],
          "reconciler.service": ["vikunja-token", "webhook-secret"],
          "label-sync.service": ["vikunja-token"],
      }
      HARDENING = {
          "Type": "notify",
          "DynamicUser": "yes",
          "NoNewPrivileges": "yes",
          "ProtectSystem": "strict",
          "ProtectHome": "yes",
          "PrivateTmp": "yes",
          "PrivateDevices": "yes",
          "PrivateUsers": "yes",
          "ProtectKernelTunables": "yes",
          "ProtectKernelModules": "yes",
          "ProtectControlGroups": "yes",
          "RestrictNamespaces": "yes",
          "RestrictRealtime": "yes",
          "RestrictSUIDSGID": "yes",
          "LockPersonality": "yes",
          "MemoryDenyWriteExecute": "yes",
          "CapabilityBoundingSet": "",
          "UMask": "0077",
      }


      def unit_properties(unit, names, user=None):
          cmd = f"systemctl show -p {','.join(names)} {unit}"
          if user is not None:
              uid = machine.succeed(f"id -u {user}").strip()
              cmd = f"su - {user} -c 'XDG_RUNTIME_DIR=/run/user/{uid} {cmd.replace('systemctl', 'systemctl --user')}'"
          return dict(line.split("=", 1) for line in machine.succeed(cmd).splitlines() if "=" in line)


      machine.start()

      with subtest("all units start and report ready"):
          machine.wait_for_unit("nats.service")
          machine.wait_for_open_port(4222)
          jwt = provision_vikunja(machine, "${tokenPath}")
          ensure_project(machine, jwt, "Inbox")
          machine.systemctl("start reconciler.service label-sync.service")
          for unit in SERVER_UNITS:
              machine.wait_for_unit(unit)
          machine.wait_for_open_port(8471)
          machine.succeed("curl --fail --silent http://127.0.0.1:8471/healthz")
          wait_for_watcher(machine)

      with subtest("system units are sandboxed"):
          for unit in SERVER_UNITS:
              props = unit_properties(unit, list(HARDENING))
              for key, want in HARDENING.items():
                  assert props.get(key) == want, f"{unit}: {key}={props.get(key)!r}, want {want!r}"
              machine.succeed(f"systemctl show -p SystemCallFilter {unit} | grep -q '='")
              machine.succeed(f"systemctl show -p RestrictAddressFamilies {unit} | grep -q AF_UNIX")
          report = machine.succeed("systemd-analyze security --no-pager " + " ".join(SERVER_UNITS))
          machine.log(report)
          for line in report.splitlines():
              if "Overall exposure level" in line:
                  exposure = float(line.split(":")[1].split()[0])
                  assert exposure <= 4.0, line

      with subtest("the user unit is sandboxed too"):
          props = unit_properties(
              "tw-watcher@alice.service",
              ["Type", "NoNewPrivileges", "ProtectSystem", "RestrictNamespaces", "ReadWritePaths"],
              user="alice",
          )
          assert props["Type"] == "notify", props
          assert props["NoNewPrivileges"] == "yes", props
          assert props["ProtectSystem"] == "strict", props
          assert "/home/alice/.task" in props["ReadWritePaths"], props
          machine.succeed("loginctl show-user alice -p Linger | grep -q Linger=yes")

      with subtest("secrets arrive as credentials and stay out of the rendered configs"):
          token = machine.succeed("cat ${tokenPath}").strip()
          for unit, credentials in CREDENTIALS.items():
              config = config_file_of(machine, unit)
              load = machine.succeed(f"systemctl show -p LoadCredential {unit}")
              for credential in credentials:
                  assert credential in load, load
                  machine.succeed(f"grep -qF /run/credentials/{unit}/{credential} {config}")
              machine.fail(f"grep -qF {shlex.quote(token)} {config}")
              machine.fail("grep -qF ${webhookSecret} " + config)
              # only the unit's (dynamic) user can read its credentials
              machine.succeed(f"test -d /run/credentials/{unit}")

      with subtest("the hook is installed: task add reaches Vikunja"):
          machine.succeed("test -L /home/alice/.task/hooks/on-exit.vikunja-sync")
          machine.succeed("readlink /home/alice/.task/hooks/on-exit.vikunja-sync | grep -qx /etc/vikunja-sync/hook")
          assert task(machine, "_get rc.uda.vikunja_id.type").strip() == "numeric"
          task(machine, "add 'from the module test'")
          wait_for_vikunja_task(machine, jwt, "from the module test")
    '';
}
