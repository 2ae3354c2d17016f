# The NixOS module on one machine: server role, local NATS, nixpkgs' Vikunja and two
# Taskwarrior users: alice (classic ~/.taskrc, a state_dir under ~/.local/state) and bob
# (the home-manager layout: ~/.config/task/taskrc, data in ~/.local/share/task, a state_dir
# with a `%` in its name, which systemd must not take for a specifier). Every unit
# starts and reports ready, the sandboxing is in place, secrets arrive as credentials and
# never appear in a rendered config, each user has its own host id, the admins' CLI works
# with the server's credentials, and a switch to a changed configuration restarts the
# watchers.
#   nix build .#checks.x86_64-linux.module
{ lib, ... }:
let
  tokenPath = "/var/lib/vikunja-sync-test/vikunja-token";
  webhookSecret = "module-test-webhook-secret";
  aliceState = "/home/alice/.local/state/vikunja-sync";
  # `%s` would be the user's shell to systemd if the module left the `%` unescaped
  bobState = "/home/bob/.local/state/vikunja-sync-100%s";
  serverUnits = [
    "vikunja-sync-webhook-ingress.service"
    "vikunja-sync-reconciler.service"
    "vikunja-sync-label-sync.service"
  ];
  owned = user: mode: {
    inherit user mode;
    group = "users";
  };
in
{
  name = "vikunja-sync-module";

  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ ./vikunja.nix ];
      virtualisation.memorySize = 2048;

      users.users = {
        alice = {
          isNormalUser = true;
          uid = 1000;
        };
        bob = {
          isNormalUser = true;
          uid = 1001;
        };
        operator = {
          isNormalUser = true;
          uid = 1002;
          extraGroups = [ "vikunja-sync-admin" ];
        };
      };

      # bob's Taskwarrior as home-manager lays it out: no ~/.taskrc, no ~/.task
      systemd.tmpfiles.settings."10-bob-taskwarrior" = {
        "/home/bob/.config".d = owned "bob" "0755";
        "/home/bob/.config/task".d = owned "bob" "0755";
        "/home/bob/.config/task/taskrc".f = owned "bob" "0644" // {
          argument = "data.location=/home/bob/.local/share/task";
        };
        "/home/bob/.local".d = owned "bob" "0755";
        "/home/bob/.local/share".d = owned "bob" "0755";
        "/home/bob/.local/share/task".d = owned "bob" "0700";
      };

      services.vikunja-sync = {
        enable = true;
        server = {
          enable = true;
          nats.enable = true;
          vikunja = {
            tokenFile = tokenPath;
            webhookSecretFile = "/etc/vikunja-sync-test/webhook-secret";
          };
        };
        taskwarrior.users = {
          alice.settings.taskwarrior.state_dir = aliceState;
          bob.settings.taskwarrior.state_dir = bobState;
        };
      };

      # the changed configuration a switch goes to: every unit's settings change
      specialisation.changed.configuration = {
        services.vikunja-sync.settings.telemetry.log_format = "json";
      };

      environment.etc."vikunja-sync-test/webhook-secret" = {
        text = webhookSecret;
        mode = "0400";
      };

      # they need the API token the test script creates through the Vikunja API
      systemd.services.vikunja-sync-reconciler.wantedBy = lib.mkForce [ ];
      systemd.services.vikunja-sync-label-sync.wantedBy = lib.mkForce [ ];

      environment.systemPackages = [
        pkgs.jq
        pkgs.natscli
      ];
    };

  testScript =
    builtins.readFile ./helpers.py
    + ''

      SERVER_UNITS = ${builtins.toJSON serverUnits}
      CREDENTIALS = {
          "vikunja-sync-webhook-ingress.service": ["webhook-secret"],
          "vikunja-sync-reconciler.service": ["vikunja-token", "webhook-secret"],
          "vikunja-sync-label-sync.service": ["vikunja-token"],
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
      WATCHERS = ["vikunja-sync-tw-watcher@alice.service", "vikunja-sync-tw-watcher@bob.service"]


      def unit_properties(unit, names):
          out = machine.succeed(f"systemctl show -p {','.join(names)} {unit}")
          return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


      machine.start()

      with subtest("all units start and report ready"):
          machine.wait_for_unit("nats.service")
          machine.wait_for_open_port(4222)
          jwt = provision_vikunja(machine, "${tokenPath}")
          ensure_project(machine, jwt, "Inbox")
          machine.systemctl("start vikunja-sync-reconciler.service vikunja-sync-label-sync.service")
          for unit in SERVER_UNITS:
              machine.wait_for_unit(unit)
          machine.wait_for_open_port(8471)
          machine.succeed("curl --fail --silent http://127.0.0.1:8471/healthz")
          for user in ("alice", "bob"):
              wait_for_watcher(machine, user)

      with subtest("server units are sandboxed"):
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

      with subtest("the watchers run as their users, sandboxed, from boot without a login"):
          for user, unit in zip(("alice", "bob"), WATCHERS):
              props = unit_properties(unit, ["Type", "User", "NoNewPrivileges", "ProtectSystem", "ReadWritePaths"])
              assert props["Type"] == "notify", props
              assert props["User"] == user, props
              assert props["NoNewPrivileges"] == "yes", props
              assert props["ProtectSystem"] == "strict", props
          assert "${aliceState}" in unit_properties(WATCHERS[0], ["ReadWritePaths"])["ReadWritePaths"]
          # the `%` reached systemd as `%%`: the path is bob's directory, not one named after his shell
          bob_paths = unit_properties(WATCHERS[1], ["ReadWritePaths"])["ReadWritePaths"]
          assert "-${bobState}" in bob_paths.split(), bob_paths

      with subtest("a second user on one machine gets its own host id and consumer"):
          machine.succeed("grep -qx 'host = \"machine-alice\"' /etc/vikunja-sync/tw-watcher/alice.toml")
          machine.succeed("grep -qx 'host = \"machine-bob\"' /etc/vikunja-sync/tw-watcher/bob.toml")
          for host_id in ("machine-alice", "machine-bob"):
              machine.wait_until_succeeds(
                  nats("consumer ls KV_vsync_tasks --names") + f" | grep -qx host-{host_id}", timeout=60
              )

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
              machine.succeed(f"test -d /run/credentials/{unit}")

      with subtest("the hook is installed: task add reaches Vikunja; the state_dir under ~/.local/state is used"):
          machine.succeed("test -L /home/alice/.task/hooks/on-exit.vikunja-sync")
          machine.succeed("readlink /home/alice/.task/hooks/on-exit.vikunja-sync | grep -qx /etc/vikunja-sync/hook")
          assert task(machine, "_get rc.uda.vikunja_id.type").strip() == "numeric"
          task(machine, "add 'from the module test'")
          wait_for_vikunja_task(machine, jwt, "from the module test")
          machine.succeed("test \"$(stat -c %U:%a ${aliceState})\" = alice:700")
          machine.succeed("find ${aliceState} -type f | grep -q .")

      with subtest("the home-manager layout: XDG taskrc and data, no ~/.taskrc created"):
          # needs the watcher and `hook install` to find the taskrc the way task does (issue 13)
          machine.succeed("test -L /home/bob/.local/share/task/hooks/on-exit.vikunja-sync")
          machine.fail("test -e /home/bob/.taskrc")
          machine.succeed("grep -q '^uda.vikunja_id.type=numeric' /home/bob/.config/task/taskrc")
          task(machine, "add 'from bob'", user="bob")
          wait_for_vikunja_task(machine, jwt, "from bob")
          wait_for_tw_task(machine, "from bob", user="alice")
          # bob's state_dir, `%` and all, was created for him and is written by his watcher
          machine.succeed("test \"$(stat -c %U ${lib.escapeShellArg bobState})\" = bob")
          machine.succeed("find ${lib.escapeShellArg bobState} -type f | grep -q .")

      with subtest("admins run the CLI with the server's credentials; others cannot, and cannot read them"):
          machine.succeed("su - operator -c 'vikunja-sync status'")
          out = machine.fail("su - alice -c 'vikunja-sync status' 2>&1")
          assert "vikunja-sync-admin" in out, out
          machine.fail("su - operator -c 'cat ${tokenPath}'")
          machine.fail("su - operator -c 'ls /run/credentials/vikunja-sync-reconciler.service'")
          # other subcommands run as the caller, without the server's credentials
          machine.succeed("su - alice -c 'vikunja-sync --help'")

      with subtest("a switch to a changed configuration restarts the watchers"):
          before = {u: unit_property(machine, u, "InvocationID") for u in WATCHERS + SERVER_UNITS}
          machine.succeed("/run/booted-system/specialisation/changed/bin/switch-to-configuration test")
          for user in ("alice", "bob"):
              wait_for_watcher(machine, user)
              machine.succeed(f"grep -qx 'log_format = \"json\"' /etc/vikunja-sync/tw-watcher/{user}.toml")
          for unit, invocation in before.items():
              machine.wait_for_unit(unit)
              assert unit_property(machine, unit, "InvocationID") != invocation, f"{unit} was not restarted"
          task(machine, "add 'after the switch'")
          wait_for_vikunja_task(machine, jwt, "after the switch")
    '';
}
