# The server role: webhook-ingress, reconciler and label-sync as system services,
# optionally with a local NATS (nixpkgs' services.nats, JetStream on).
{
  config,
  lib,
  options,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  srv = cfg.server;
  vsLib = import ./lib.nix { inherit lib pkgs; };
  hardening = import ./hardening.nix { inherit lib; };
  inherit (lib) mkOption types;

  busCredentials = lib.optionalAttrs (cfg.bus.credentialsFile != null) {
    "nats-creds" = cfg.bus.credentialsFile;
  };

  # One system service running one of our binaries.
  #   credentials: { <credential name> = <file or null (credential store)>; }
  #   settings:    function of the credential path helper, values on top of cfg.settings
  mkService =
    {
      name,
      description,
      credentials,
      settings,
      after ? [ ],
      bindPrivilegedPort ? false,
    }:
    let
      cred = vsLib.credentialPath name;
      busSettings = lib.optionalAttrs (cfg.bus.credentialsFile != null) {
        bus.credentials_file = cred "nats-creds";
      };
      configFile = vsLib.mkConfigFile name [
        cfg.settings
        busSettings
        (settings cred)
      ];
    in
    {
      inherit description;
      documentation = [ "https://github.com/vikunja-sync/vikunja-sync/blob/main/README.md#nixos" ];
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ] ++ lib.optional natsEnabled "nats.service" ++ after;
      restartTriggers = [ configFile ];
      serviceConfig = lib.mkMerge [
        {
          # READY=1 once connected: `after=` and wait_for_unit mean ready, not started
          Type = "notify";
          ExecStart = "${lib.getExe' cfg.package name} --config ${configFile}";
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
  natsEnabled = cfg.enable && srv.enable && srv.nats.enable;
in
{
  options.services.vikunja-sync.server = {
    enable = mkOption {
      type = types.bool;
      default = true;
      example = false;
      description = ''
        Whether this machine runs the server role: webhook-ingress, reconciler and
        label-sync as system services (units `webhook-ingress.service`,
        `reconciler.service`, `label-sync.service`). On by default once
        {option}`services.vikunja-sync.enable` is set; set it to `false` on machines
        that only host Taskwarrior users.
      '';
    };

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
      description = "Address webhook-ingress listens on for `POST /webhook`, `GET /healthz` and `GET /metrics`.";
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
      enable = lib.mkEnableOption "the `/metrics` and `/healthz` endpoints of reconciler and label-sync (webhook-ingress always serves them on its own port)";

      address = mkOption {
        type = types.str;
        default = "127.0.0.1";
        description = "Address the metrics endpoints of reconciler and label-sync listen on.";
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
    };

    nats = {
      enable = mkOption {
        type = types.bool;
        default = false;
        description = ''
          Whether to run a local NATS server with JetStream as the bus (nixpkgs'
          `services.nats`, client port {option}`services.nats.port`). Point
          {option}`services.vikunja-sync.bus.url` of the Taskwarrior machines at it.
        '';
      };

      openFirewall = mkOption {
        type = types.bool;
        default = false;
        description = "Whether to open the local NATS server's client port so Taskwarrior machines can reach the bus.";
      };
    };
  };

  config = lib.mkMerge [
    # The local NATS. The conditions sit on the values, not around `services.nats`,
    # so the module also evaluates where services.* is free-form (nix-eval-check's stub).
    {
      services.nats = {
        enable = lib.mkIf natsEnabled true;
        jetstream = lib.mkIf natsEnabled true;
      }
      # Some releases of the nats module bind 127.0.0.1 unless told otherwise
      # (services.nats.host); without that option nats-server listens on all addresses.
      // lib.optionalAttrs (lib.hasAttrByPath [ "services" "nats" "host" ] options) {
        host = lib.mkIf (natsEnabled && srv.nats.openFirewall) (lib.mkDefault "0.0.0.0");
      };
    }

    (lib.mkIf (cfg.enable && srv.enable) {
      services.vikunja-sync.settings = {
        vikunja = {
          inherit (srv.vikunja) url;
          webhook_url = srv.vikunja.webhookUrl;
        };
        ingress.listen = vsLib.hostPort srv.listenAddress srv.port;
        reconcile.interval = srv.reconcileInterval;
      };

      systemd.services.webhook-ingress = mkService {
        name = "webhook-ingress";
        description = "vikunja-sync webhook ingress: verifies Vikunja webhooks and publishes them to the bus";
        bindPrivilegedPort = srv.port < 1024;
        credentials."webhook-secret" = srv.vikunja.webhookSecretFile;
        settings = cred: { vikunja.webhook_secret_file = cred "webhook-secret"; };
      };

      systemd.services.reconciler = mkService {
        name = "reconciler";
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

      systemd.services.label-sync = mkService {
        name = "label-sync";
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

      networking.firewall.allowedTCPPorts =
        lib.optional srv.openFirewall srv.port
        ++ lib.optional (natsEnabled && srv.nats.openFirewall) (config.services.nats.port or 4222);
    })
  ];
}
