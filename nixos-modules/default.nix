# services.vikunja-sync: the NixOS module of vikunja-sync.
#   server.*             webhook-ingress, reconciler, label-sync as system units (opt-in), with
#                        an optional local NATS (nats.nix), Jaeger (jaeger.nix), Prometheus and
#                        Grafana (monitoring.nix) and the operator CLI for admins (admin.nix)
#   taskwarrior.users.*  per user: tw-watcher as the system unit vikunja-sync-tw-watcher@<user>
#                        running as that user, and the Taskwarrior hook (taskwarrior.nix)
# Options shared by both roles live here; every unit reads a TOML rendered from
# `settings` (RFC 42) plus its credential paths (docs/ARCHITECTURE.md section 2).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  vsLib = import ./lib.nix { inherit lib pkgs cfg; };
  inherit (lib) mkDefault mkOption types;
in
{
  imports = [
    ./server.nix
    ./nats.nix
    ./jaeger.nix
    ./monitoring.nix
    ./admin.nix
    ./taskwarrior.nix
  ];

  options.services.vikunja-sync = {
    enable = lib.mkEnableOption "vikunja-sync, the two-way sync between Vikunja and Taskwarrior over NATS JetStream. On its own it runs nothing: the roles {option}`services.vikunja-sync.server.enable` and {option}`services.vikunja-sync.taskwarrior.users` decide what runs";

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
        (see docs/ARCHITECTURE.md, "Operator contract"). The typed options of this module
        (bus URL, Vikunja URL, listen address, reconcile interval, each user's Taskwarrior
        paths) only set defaults here, so any key can be set in `settings` instead. Each
        unit's file adds the paths of its own credentials. Never put a secret here:
        secrets are files, given with the `*File` options and passed with systemd's
        `LoadCredential=`.
      '';
    };

    checkConfig = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether to check every rendered configuration at build time with
        `vikunja-sync config check`, so a misspelled key in `settings` fails the build
        rather than a unit at run time. Skipped when cross-compiling.
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
        example = "/run/secrets/vikunja-sync/server.nk";
        description = ''
          Credentials of the server identity on the bus, for webhook-ingress, reconciler,
          label-sync and the admins' `vikunja-sync` (`[bus] credentials_file`, passed with
          `LoadCredential=`): the NKey seed whose public key is
          {option}`services.vikunja-sync.server.nats.authorization.serverKey`, or a NATS
          `.creds` file. `null`: connect without credentials. Taskwarrior users have their
          own, {option}`services.vikunja-sync.taskwarrior.users.<name>.credentialsFile`.
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
    # The typed options only set defaults: `settings` may override any key they set.
    services.vikunja-sync.settings = {
      bus.url = mkDefault cfg.bus.url;
      telemetry.otlp_endpoint = lib.mkIf (cfg.telemetry.otlpEndpoint != null) (
        mkDefault cfg.telemetry.otlpEndpoint
      );
    };

    # the CLI for everyone (`vikunja-sync hook install`, ...); on a server the admin
    # wrapper of the same name (admin.nix) takes precedence
    environment.systemPackages = [ (lib.lowPrio cfg.package) ];
  };
}
