# What the module does with a configuration, read from its evaluation: the assertions and
# defaults no VM test can show (a configuration that must not build), and the layouts the
# VM tests do not cover. Used by the flake check `module-eval` (real NixOS) and by
# .ci/nix-check.sh (without nixpkgs: .ci/nix/stub-nixos.nix).
#   evalConfig: [ module ] -> { config; failedAssertions; }
# Returns a list of { name; ok; detail; }.
{ lib, evalConfig }:
let
  user = name: {
    users.users.${name} = {
      isNormalUser = true;
      home = "/home/${name}";
    };
  };
  laptop = extra: [
    (user "alice")
    {
      networking.hostName = "laptop";
      services.vikunja-sync = {
        enable = true;
        taskwarrior.users.alice = { };
      };
    }
  ] ++ extra;
  server = extra: [
    {
      networking.hostName = "sync";
      services.vikunja-sync = {
        enable = true;
        server = {
          enable = true;
          vikunja.tokenFile = "/run/secrets/token";
          vikunja.webhookSecretFile = "/run/secrets/webhook";
        };
      };
    }
  ] ++ extra;
  keys = {
    server = "UCK3AEKJ7VAUHAEQLUEIB7CFZYCTG6HY6WJS4UKFN6LRDEWTJEMQSVEO";
    laptop = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
  };
  authorized = {
    services.vikunja-sync = {
      bus.credentialsFile = "/run/secrets/server.nk";
      server.nats = {
        enable = true;
        openFirewall = true;
        authorization = {
          enable = true;
          serverKey = keys.server;
          hosts.laptop-alice.publicKey = keys.laptop;
        };
      };
    };
  };

  services = e: e.config.systemd.services;
  watcherOf = e: user: (services e)."vikunja-sync-tw-watcher@${user}";
  setupOf = e: user: (services e)."vikunja-sync-tw-setup@${user}";
  hostIdOf = e: user: e.config.services.vikunja-sync.taskwarrior.users.${user}.hostId;
  # the module's own failed assertions (the VM tests evaluate the rest of NixOS)
  ours = e: lib.filter (lib.hasInfix "vikunja-sync") e.failedAssertions;
  asserts = e: needle: lib.any (lib.hasInfix needle) e.failedAssertions;
  natsHost = e: e.config.services.nats.host or e.config.services.nats.settings.host;

  # an evaluation error (a conflict, a throw) fails the case instead of the whole list
  case =
    name: modules: check: detail:
    let
      e = evalConfig modules;
      result = builtins.tryEval (check e);
    in
    {
      inherit name;
      ok = result.success && result.value;
      detail =
        let
          d = builtins.tryEval (detail e);
        in
        if !result.success then "evaluation failed" else if d.success then d.value else "(no detail)";
    };
in
[
  (case "a laptop (server.enable left at its default) runs only the watcher" (laptop [ ]) (
    e:
    ours e == [ ]
    && services e ? "vikunja-sync-tw-watcher@alice"
    && !(services e ? vikunja-sync-reconciler)
    && !(services e ? vikunja-sync-webhook-ingress)
    && !(e.config.services.nats.enable or false)
  ) (e: "assertions: ${toString e.failedAssertions}; services: ${toString (lib.attrNames (services e))}"))

  (case "two users on one machine get their own host ids, watchers and configs"
    (laptop [
      (user "bob")
      { services.vikunja-sync.taskwarrior.users.bob = { }; }
    ])
    (
      e:
      ours e == [ ]
      && hostIdOf e "alice" == "laptop-alice"
      && hostIdOf e "bob" == "laptop-bob"
      && services e ? "vikunja-sync-tw-watcher@bob"
      && e.config.environment.etc ? "vikunja-sync/tw-watcher/bob.toml"
    )
    (e: "host ids: ${hostIdOf e "alice"}, ${hostIdOf e "bob"}; assertions: ${toString e.failedAssertions}")
  )

  (case "a machine left at the host name nixos is warned about its host id"
    (laptop [ { networking.hostName = lib.mkForce "nixos"; } ])
    (e: lib.any (lib.hasInfix "taskwarrior.users.alice.hostId") e.config.warnings)
    (e: "warnings: ${toString e.config.warnings}")
  )

  (case "a Taskwarrior user without users.users fails with an assertion naming our option"
    (laptop [ { services.vikunja-sync.taskwarrior.users.carol = { }; } ])
    (e: asserts e "services.vikunja-sync.taskwarrior.users.carol: there is no user carol")
    (e: "assertions: ${toString e.failedAssertions}")
  )

  (case "the example state_dir under ~/.local/state is created and writable for the watcher"
    (laptop [
      {
        services.vikunja-sync.taskwarrior.users.alice.settings.taskwarrior.state_dir = "/home/alice/.local/state/vikunja-sync";
      }
    ])
    (
      e:
      lib.elem "-/home/alice/.local/state/vikunja-sync" (watcherOf e "alice").serviceConfig.ReadWritePaths
      && lib.any (lib.hasInfix "/home/alice/.local/state/vikunja-sync") (setupOf e "alice").serviceConfig.ExecStart
    )
    (e: "ReadWritePaths: ${toString (watcherOf e "alice").serviceConfig.ReadWritePaths}")
  )

  (case "home-manager layouts: no taskrc or data path is imposed, both data places are writable"
    (laptop [ ])
    (
      e:
      let
        rw = (watcherOf e "alice").serviceConfig.ReadWritePaths;
        tw = e.config.services.vikunja-sync.taskwarrior.users.alice.settings.taskwarrior;
      in
      !(tw ? taskrc) && !(tw ? data) && lib.elem "-/home/alice/.task" rw && lib.elem "-/home/alice/.local/share/task" rw
    )
    (e: "ReadWritePaths: ${toString (watcherOf e "alice").serviceConfig.ReadWritePaths}")
  )

  (case "a % in a path is no systemd specifier (Exec lines, ReadWritePaths, LoadCredential)"
    (laptop [
      {
        services.vikunja-sync.taskwarrior.users.alice = {
          settings.taskwarrior.state_dir = "/home/alice/100%state";
          credentialsFile = "/run/secrets/50%.nk";
        };
      }
    ])
    (
      e:
      let
        w = (watcherOf e "alice").serviceConfig;
        setup = (setupOf e "alice").serviceConfig;
      in
      # nixpkgs' escapeSystemdExecArg: one JSON-quoted word, `%` doubled
      lib.elem ''"/home/alice/100%%state"'' (lib.splitString " " (lib.head setup.ExecStart))
      && !(lib.any (lib.hasInfix "100%state") setup.ExecStart)
      && lib.elem "-/home/alice/100%%state" w.ReadWritePaths
      && lib.elem "-/home/alice/100%%state" setup.ReadWritePaths
      && w.LoadCredential == [ "nats-creds:/run/secrets/50%%.nk" ]
    )
    (
      e:
      "ExecStart: ${toString (setupOf e "alice").serviceConfig.ExecStart}; ReadWritePaths: ${toString (watcherOf e "alice").serviceConfig.ReadWritePaths}; LoadCredential: ${toString (watcherOf e "alice").serviceConfig.LoadCredential}"
    )
  )

  (case "the watcher template leaves %i to systemd and quotes the rest"
    (laptop [ ])
    (
      e:
      let
        exec = (services e)."vikunja-sync-tw-watcher@".serviceConfig.ExecStart;
      in
      lib.hasSuffix ''/bin/tw-watcher" "--config" /etc/vikunja-sync/tw-watcher/%i.toml'' exec
    )
    (e: "ExecStart: ${(services e)."vikunja-sync-tw-watcher@".serviceConfig.ExecStart}")
  )

  (case "settings.bus.url overrides the typed bus.url instead of conflicting"
    (laptop [ { services.vikunja-sync.settings.bus.url = "nats://elsewhere:4222"; } ])
    (e: e.config.services.vikunja-sync.settings.bus.url == "nats://elsewhere:4222")
    (e: "bus.url: ${e.config.services.vikunja-sync.settings.bus.url}")
  )

  (case "server units carry the vikunja-sync- prefix" (server [ { services.vikunja-sync.server.jaeger.enable = true; } ]) (
    e:
    lib.all (n: services e ? ${n}) [
      "vikunja-sync-webhook-ingress"
      "vikunja-sync-reconciler"
      "vikunja-sync-label-sync"
      "vikunja-sync-jaeger"
    ]
    && !(lib.any (n: services e ? ${n}) [
      "webhook-ingress"
      "reconciler"
      "label-sync"
      "jaeger"
    ])
  ) (e: "services: ${toString (lib.attrNames (services e))}"))

  (case "the local NATS binds loopback unless opened" (server [ { services.vikunja-sync.server.nats.enable = true; } ])
    (e: natsHost e == "127.0.0.1")
    (e: "host: ${natsHost e}")
  )

  (case "opening the NATS port without authorization is refused"
    (server [
      {
        services.vikunja-sync.server.nats = {
          enable = true;
          openFirewall = true;
        };
      }
    ])
    (e: asserts e "services.vikunja-sync.server.nats.openFirewall opens the bus")
    (e: "assertions: ${toString e.failedAssertions}")
  )

  (case "with authorization the opened bus knows only the server and the listed hosts" (server [ authorized ]) (
    e:
    let
      users = e.config.services.nats.settings.authorization.users;
      laptopUser = lib.findFirst (u: u.nkey == keys.laptop) null users;
    in
    ours e == [ ]
    && natsHost e == "0.0.0.0"
    && lib.length users == 2
    && laptopUser != null
    && lib.elem "vsync.v1.in.tw.laptop-alice.>" laptopUser.permissions.publish.allow
    && lib.elem "$KV.>" laptopUser.permissions.publish.deny
  ) (e: "assertions: ${toString e.failedAssertions}"))

  (case "a local Taskwarrior user of an authorized bus needs its credentials"
    (server [
      authorized
      (user "bob")
      { services.vikunja-sync.taskwarrior.users.bob = { }; }
    ])
    (e: asserts e "services.vikunja-sync.taskwarrior.users.bob: the local bus requires authorization")
    (e: "assertions: ${toString e.failedAssertions}")
  )

  (case "the server role with NATS authorization and Grafana: no failed assertion, both data sources, the dashboard, the NATS exporter"
    (server [
      authorized
      {
        services.vikunja-sync.server = {
          jaeger.enable = true;
          grafana = {
            enable = true;
            secretKeyFile = "/run/secrets/grafana";
          };
        };
      }
    ])
    (
      e:
      let
        g = e.config.services.grafana;
        jobs = map (j: j.job_name) e.config.services.prometheus.scrapeConfigs;
      in
      ours e == [ ]
      && lib.sort lib.lessThan (map (d: d.uid) g.provision.datasources.settings.datasources) == [
        "vsync-jaeger"
        "vsync-prometheus"
      ]
      && lib.length g.provision.dashboards.settings.providers == 1
      && lib.elem "vikunja-sync" jobs
      && lib.elem "nats" jobs
      && lib.elem "-jsz=all" e.config.services.prometheus.exporters.nats.extraFlags
    )
    (e: "assertions: ${toString e.failedAssertions}")
  )

  (case "Grafana without Jaeger is refused (its panels link to traces)"
    (server [ { services.vikunja-sync.server.grafana.enable = true; } ])
    (e: asserts e "the dashboard's panels link to traces in Jaeger")
    (e: "assertions: ${toString e.failedAssertions}")
  )

  (case "admins get the operator CLI with the server's credentials through one sudo rule" (server [ ]) (
    e:
    e.config.users.groups ? vikunja-sync-admin
    && lib.any (r: r.groups == [ "vikunja-sync-admin" ]) e.config.security.sudo.extraRules
  ) (e: "sudo rules: ${builtins.toJSON (map (r: r.groups or [ ]) e.config.security.sudo.extraRules)}"))
]
