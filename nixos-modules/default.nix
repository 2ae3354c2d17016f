# services.vikunja-sync: the NixOS module of vikunja-sync.
#   server.*             webhook-ingress, reconciler, label-sync (+ optional local NATS, Jaeger)
#   taskwarrior.users.*  tw-watcher as a user service and the Taskwarrior hook, per user
# Options shared by both roles live here; every unit reads a TOML rendered from
# `settings` (RFC 42) plus its own values (docs/ARCHITECTURE.md section 2).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  vsLib = import ./lib.nix { inherit lib pkgs; };
  inherit (lib) mkOption types;
in
{
  imports = [
    ./server.nix
    ./jaeger.nix
    ./taskwarrior.nix
  ];

  options.services.vikunja-sync = {
    enable = lib.mkEnableOption "vikunja-sync, the two-way sync between Vikunja and Taskwarrior over NATS JetStream";

    package = mkOption {
      type = types.package;
      defaultText = lib.literalExpression "vikunja-sync.packages.\${pkgs.stdenv.hostPlatform.system}.default";
      description = ''
        The vikunja-sync package: it must contain every binary (`webhook-ingress`,
        `reconciler`, `label-sync`, `tw-watcher`, `vikunja-sync`, `vikunja-sync-hook`).
        The flake's `nixosModules.default` sets it to the flake's `default` package.
      '';
    };

    settings = mkOption {
      type = types.submodule { freeformType = vsLib.settingsFormat.type; };
      default = { };
      example = lib.literalExpression ''
        {
          bus.replicas = 3;
          vikunja.default_project = "Inbox";
          vikunja.projects = [ "Work" "Home" ];
          reconcile.full_interval = "15m";
          telemetry.log_format = "json";
        }
      '';
      description = ''
        Configuration shared by every unit, rendered to the TOML file the binaries read
        (see docs/ARCHITECTURE.md, "Operator contract"). Each unit's file is this
        attribute set with that unit's own values on top: the typed options of this
        module (bus URL, Vikunja URL, listen address, reconcile interval, the
        Taskwarrior paths) and the paths of its credentials. Never put a secret here:
        secrets are files, given with the `*File` options and passed with systemd's
        `LoadCredential=`; the `*_file` keys are set by the module.
      '';
    };

    bus = {
      url = mkOption {
        type = types.str;
        default = "nats://127.0.0.1:4222";
        example = "tls://nats.example.org:4222";
        description = "URL of the NATS server (with JetStream) every unit connects to (`[bus] url`).";
      };

      credentialsFile = mkOption {
        type = vsLib.secretFileType;
        default = null;
        example = "/run/secrets/vikunja-sync/nats.creds";
        description = ''
          NATS credentials file (`.creds`: user JWT and NKey seed) for the server units,
          passed to them with `LoadCredential=`. `null`: connect without credentials.
          Taskwarrior users have their own option,
          {option}`services.vikunja-sync.taskwarrior.users.<name>.credentialsFile`.
        '';
      };
    };

    telemetry.otlpEndpoint = mkOption {
      type = types.nullOr types.str;
      default = null;
      defaultText = lib.literalMD ''`"http://127.0.0.1:4317"` when {option}`services.vikunja-sync.server.jaeger.enable` is set, else `null`'';
      example = "http://jaeger.example.org:4317";
      description = ''
        OTLP/gRPC endpoint the units export traces to (`[telemetry] otlp_endpoint`).
        `null`: no exporter at all; logs still go to the journal.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    services.vikunja-sync.settings = lib.mkMerge [
      { bus.url = cfg.bus.url; }
      (lib.mkIf (cfg.telemetry.otlpEndpoint != null) {
        telemetry.otlp_endpoint = cfg.telemetry.otlpEndpoint;
      })
    ];

    # the operator CLI: `vikunja-sync status|reconcile|repair|adopt --config FILE`
    environment.systemPackages = [ cfg.package ];
  };
}
