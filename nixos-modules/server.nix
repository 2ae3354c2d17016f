# The server role (opt-in): webhook-ingress, reconciler and label-sync as the system
# units vikunja-sync-webhook-ingress, vikunja-sync-reconciler and vikunja-sync-label-sync.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  srv = cfg.server;
  vsLib = import ./lib.nix { inherit lib pkgs cfg; };
  hardening = import ./hardening.nix { inherit lib; };
  inherit (lib) mkDefault mkOption types;

  enabled = cfg.enable && srv.enable;
  natsLocal = enabled && srv.nats.enable;

  busCredentials = lib.optionalAttrs (cfg.bus.credentialsFile != null) {
    "nats-creds" = cfg.bus.credentialsFile;
  };

  # One system unit `vikunja-sync-<program>` running one of our programs.
  #   credentials: { <credential name> = <file or null (credential store)>; }
  #   settings:    function of the credential path helper: this unit's own keys, on top of
  #                cfg.settings (its credential paths, its metrics address)
  mkService =
    {
      program,
      description,
      credentials,
      settings,
      after ? [ ],
      bindPrivilegedPort ? false,
    }:
    let
      unit = "vikunja-sync-${program}";
      cred = vsLib.credentialPath unit;
      busSettings = lib.optionalAttrs (cfg.bus.credentialsFile != null) {
        bus.credentials_file = cred "nats-creds";
      };
      configFile = vsLib.mkConfigFile unit [
        cfg.settings
        busSettings
        (settings cred)
      ];
    in
    {
      inherit description;
      documentation = [ "https://github.com/vikunja-sync/vikunja-sync/blob/main/docs/NIXOS.md" ];
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ] ++ lib.optional natsLocal "nats.service" ++ after;
      restartTriggers = [ configFile ];
      serviceConfig = lib.mkMerge [
        {
          # READY=1 once connected: `after=` and wait_for_unit mean ready, not started
          Type = "notify";
          ExecStart = vsLib.execLine [
            (lib.getExe' cfg.package program)
            "--config"
            configFile
          ];
          Restart = "on-failure";
          RestartSec = "5s";
          # SIGTERM drains in-flight work first
          TimeoutStopSec = "30s";
        }
        # credentials: copied by systemd into /run/credentials/<unit>/, readable by the unit only
        {
          LoadCredential = lib.mapAttrsToList vsLib.loadCredential (credentials // busCredentials);
        }
        (hardening.system { inherit bindPrivilegedPort; })
      ];
    };

  vikunjaUnit = lib.optional (config.services.vikunja.enable or false) "vikunja.service";
  metricsListen = port: vsLib.hostPort srv.metrics.address port;
in
{
  options.services.vikunja-sync.server = {
    enable = lib.mkEnableOption ''
      the server role on this machine: webhook-ingress, reconciler and label-sync as the
      system units `vikunja-sync-webhook-ingress`, `vikunja-sync-reconciler` and
      `vikunja-sync-label-sync`. One machine per bus runs it; Taskwarrior machines leave
      it off'';

    vikunja = {
      url = mkOption {
        type = types.str;
        default = "http://127.0.0.1:${toString (config.services.vikunja.port or 3456)}";
        defaultText = lib.literalExpression ''"http://127.0.0.1:''${toString config.services.vikunja.port}"'';
        example = "https://vikunja.example.org";
        description = "Base URL of the Vikunja server; the API is `<url>/api/v1` (`[vikunja] url`).";
      };

      tokenFile = mkOption {
        type = vsLib.secretFileType;
        default = null;
        example = "/run/secrets/vikunja-sync/vikunja-token";
        description = ''
          File holding the Vikunja API token (`tk_...`) that reconciler and label-sync
          use, passed with `LoadCredential=` as credential `vikunja-token`. `null`: the
          credential is taken from systemd's credential store, a file named
          `vikunja-token` in `/etc/credstore/` or `/run/credstore/` (for example written
          by sops-nix or agenix).
        '';
      };

      webhookSecretFile = mkOption {
        type = vsLib.secretFileType;
        default = null;
        example = "/run/secrets/vikunja-sync/webhook-secret";
        description = ''
          File holding the secret Vikunja signs its webhooks with. reconciler registers
          the webhooks with it and webhook-ingress verifies the signatures; passed with
          `LoadCredential=` as credential `webhook-secret`. `null`: taken from systemd's
          credential store (`/etc/credstore/webhook-secret`, `/run/credstore/...`).
        '';
      };

      webhookUrl = mkOption {
        type = types.str;
        default = "http://${vsLib.hostPort (vsLib.connectHost srv.listenAddress) srv.port}/webhook";
        defaultText = lib.literalExpression ''"http://127.0.0.1:''${toString config.services.vikunja-sync.server.port}/webhook"'';
        example = "https://sync.example.org/webhook";
        description = ''
          URL at which Vikunja reaches webhook-ingress; reconciler registers the
          webhooks with it (`[vikunja] webhook_url`). The default suits Vikunja on the
          same machine; that needs Vikunja's `outgoingrequests.allownonroutableips`
          (older releases: `webhooks.allownonroutableips`) set to `true`.
        '';
      };
    };

    listenAddress = mkOption {
      type = types.str;
      default = "127.0.0.1";
      example = "0.0.0.0";
      description = "Address webhook-ingress listens on for `POST /webhook` and `GET /healthz` (its `/metrics` listens apart: {option}`services.vikunja-sync.server.metrics.ingressPort`).";
    };

    port = mkOption {
      type = types.port;
      default = 8471;
      description = "TCP port of webhook-ingress (`[ingress] listen` is `<listenAddress>:<port>`).";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to open {option}`services.vikunja-sync.server.port` in the firewall (for a Vikunja on another machine).";
    };

    reconcileInterval = mkOption {
      type = types.either types.ints.positive types.str;
      default = "60s";
      example = "5m";
      description = ''
        How often reconciler polls Vikunja for changes a webhook may have missed
        (`[reconcile] interval`): a duration with a unit (`500ms`, `30s`, `5m`, `1h`)
        or whole seconds. The full listing that finds deletions is
        `settings.reconcile.full_interval`.
      '';
    };

    metrics = {
      enable = mkOption {
        type = types.bool;
        default = srv.grafana.enable || srv.jaeger.monitor.enable;
        defaultText = lib.literalExpression "config.services.vikunja-sync.server.grafana.enable || config.services.vikunja-sync.server.jaeger.monitor.enable";
        description = "Whether reconciler and label-sync serve `/metrics` and `/healthz` (webhook-ingress always serves them, on {option}`services.vikunja-sync.server.metrics.ingressPort`).";
      };

      address = mkOption {
        type = types.str;
        default = "127.0.0.1";
        description = "Address the metrics endpoints of webhook-ingress, reconciler and label-sync listen on.";
      };

      ingressPort = mkOption {
        type = types.port;
        default = 9470;
        description = "Port of webhook-ingress's metrics endpoint (`[ingress] metrics_listen`), apart from `/webhook`.";
      };

      reconcilerPort = mkOption {
        type = types.port;
        default = 9472;
        description = "Port of reconciler's metrics endpoint (`[metrics] listen`).";
      };

      labelSyncPort = mkOption {
        type = types.port;
        default = 9473;
        description = "Port of label-sync's metrics endpoint (`[metrics] listen`).";
      };

      watcherTargets = mkOption {
        type = types.listOf types.str;
        default = [ ];
        example = [
          "laptop.lan:9474"
          "desk.lan:9474"
        ];
        description = ''
          `host:port` of the Taskwarrior machines' watcher metrics endpoints (their
          `settings.metrics.listen`), scraped by the local Prometheus
          ({option}`services.vikunja-sync.server.grafana.enable`): the Vikunja -> Taskwarrior
          and Taskwarrior -> Taskwarrior latencies are measured there.
        '';
      };
    };
  };

  config = lib.mkIf enabled {
    # The typed options only set defaults: `settings` may override any key they set.
    services.vikunja-sync.settings = {
      vikunja = {
        url = mkDefault srv.vikunja.url;
        webhook_url = mkDefault srv.vikunja.webhookUrl;
      };
      ingress.listen = mkDefault (vsLib.hostPort srv.listenAddress srv.port);
      ingress.metrics_listen = mkDefault (metricsListen srv.metrics.ingressPort);
      reconcile.interval = mkDefault srv.reconcileInterval;
    };

    systemd.services.vikunja-sync-webhook-ingress = mkService {
      program = "webhook-ingress";
      description = "vikunja-sync webhook ingress: verifies Vikunja webhooks and publishes them to the bus";
      bindPrivilegedPort = srv.port < 1024;
      credentials."webhook-secret" = srv.vikunja.webhookSecretFile;
      settings = cred: { vikunja.webhook_secret_file = cred "webhook-secret"; };
    };

    systemd.services.vikunja-sync-reconciler = mkService {
      program = "reconciler";
      description = "vikunja-sync reconciler: merges changes and writes them to Vikunja";
      after = vikunjaUnit;
      credentials = {
        "vikunja-token" = srv.vikunja.tokenFile;
        "webhook-secret" = srv.vikunja.webhookSecretFile;
      };
      settings =
        cred:
        {
          vikunja = {
            token_file = cred "vikunja-token";
            webhook_secret_file = cred "webhook-secret";
          };
        }
        // lib.optionalAttrs srv.metrics.enable { metrics.listen = metricsListen srv.metrics.reconcilerPort; };
    };

    systemd.services.vikunja-sync-label-sync = mkService {
      program = "label-sync";
      description = "vikunja-sync label sync: keeps Taskwarrior tags and Vikunja labels in step";
      after = vikunjaUnit;
      credentials."vikunja-token" = srv.vikunja.tokenFile;
      settings =
        cred:
        {
          vikunja.token_file = cred "vikunja-token";
        }
        // lib.optionalAttrs srv.metrics.enable { metrics.listen = metricsListen srv.metrics.labelSyncPort; };
    };

    networking.firewall.allowedTCPPorts = lib.optional srv.openFirewall srv.port;
  };
}
