# The bus on the server (optional): nixpkgs' services.nats with JetStream, bound to
# loopback unless its port is opened, and NKey users with per-role permissions
# (bus-permissions.nix). Only public keys are configured here; the seeds (secrets) stay on
# the machines that connect (`*.credentialsFile`).
{
  config,
  lib,
  options,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  nats = cfg.server.nats;
  auth = nats.authorization;
  vsLib = import ./lib.nix { inherit lib pkgs cfg; };
  permissions = import ./bus-permissions.nix { inherit lib; };
  inherit (lib) mkDefault mkOption types;

  enabled = cfg.enable && cfg.server.enable && nats.enable;
  listenHost = if nats.openFirewall then "0.0.0.0" else "127.0.0.1";
  # older nixpkgs declare services.nats.host (default 127.0.0.1); newer ones leave the
  # address to the config file, where nats-server's own default is every address
  hasHostOption = lib.hasAttrByPath [ "services" "nats" "host" ] options;

  users =
    [
      {
        nkey = auth.serverKey;
        permissions = permissions.server;
      }
    ]
    ++ lib.mapAttrsToList (_: h: {
      nkey = h.publicKey;
      inherit (h) permissions;
    }) auth.hosts;

  hostModule =
    { name, ... }:
    {
      options = {
        publicKey = mkOption {
          type = vsLib.nkeyType;
          example = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
          description = ''
            Public NKey of this host's identity; the host's watcher holds the seed
            ({option}`services.vikunja-sync.taskwarrior.users.<name>.credentialsFile` there).
          '';
        };
        permissions = mkOption {
          type = types.attrsOf types.anything;
          default = permissions.host name;
          defaultText = lib.literalMD "its own events, its own durable consumer `host-<hostId>`, its own control subjects (see docs/NIXOS.md, \"Bus authorization\")";
          description = "NATS permissions of this host (nats-server's `permissions` of a user).";
        };
      };
    };
in
{
  options.services.vikunja-sync.server.nats = {
    enable = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Whether to run the bus on this machine: nixpkgs' `services.nats` with JetStream,
        client port {option}`services.nats.port`, listening on 127.0.0.1 unless
        {option}`services.vikunja-sync.server.nats.openFirewall` is set. Point
        {option}`services.vikunja-sync.bus.url` of the Taskwarrior machines at it.
      '';
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Whether the local NATS server listens on every address and its client port is
        opened in the firewall, for Taskwarrior machines to connect. Requires
        {option}`services.vikunja-sync.server.nats.authorization.enable`.
      '';
    };

    authorization = {
      enable = lib.mkEnableOption ''
        NKey authentication on the local NATS server: only the server identity and the
        hosts listed in {option}`services.vikunja-sync.server.nats.authorization.hosts`
        may connect, each with its own permissions; anonymous clients are refused'';

      serverKey = mkOption {
        type = types.nullOr vsLib.nkeyType;
        default = null;
        example = "UCK3AEKJ7VAUHAEQLUEIB7CFZYCTG6HY6WJS4UKFN6LRDEWTJEMQSVEO";
        description = ''
          Public NKey of the server identity (webhook-ingress, reconciler, label-sync, the
          admins' `vikunja-sync`), whose seed is {option}`services.vikunja-sync.bus.credentialsFile`.
        '';
      };

      hosts = mkOption {
        type = types.attrsOf (types.submodule hostModule);
        default = { };
        example = lib.literalExpression ''
          {
            laptop-alice.publicKey = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
          }
        '';
        description = ''
          The Taskwarrior hosts allowed on the bus, by host id
          ({option}`services.vikunja-sync.taskwarrior.users.<name>.hostId` of the machine
          they run on).
        '';
      };
    };
  };

  config = lib.mkMerge [
    # The conditions sit on the values, not around `services.nats`, so the module also
    # evaluates where services.* is free-form (nix-eval-check's stub).
    {
      services.nats =
        {
          enable = lib.mkIf enabled true;
          jetstream = lib.mkIf enabled true;
          settings = lib.mkIf enabled (
            lib.mkMerge [
              (lib.mkIf (!hasHostOption) { host = mkDefault listenHost; })
              (lib.mkIf auth.enable { authorization.users = users; })
            ]
          );
        }
        // lib.optionalAttrs hasHostOption {
          host = lib.mkIf enabled (mkDefault listenHost);
        };
    }

    (lib.mkIf enabled {
      assertions = [
        {
          assertion = nats.openFirewall -> auth.enable;
          message = ''
            services.vikunja-sync.server.nats.openFirewall opens the bus to the network, where
            anyone reaching it could read and rewrite every task: set
            services.vikunja-sync.server.nats.authorization.enable (with serverKey and one entry
            per Taskwarrior host in services.vikunja-sync.server.nats.authorization.hosts) too.
          '';
        }
        {
          assertion = auth.enable -> auth.serverKey != null && cfg.bus.credentialsFile != null;
          message = ''
            services.vikunja-sync.server.nats.authorization.enable needs the server identity:
            its public key in services.vikunja-sync.server.nats.authorization.serverKey and its
            seed in services.vikunja-sync.bus.credentialsFile.
          '';
        }
      ]
      # this machine's own Taskwarrior users connect to the same bus
      ++ lib.mapAttrsToList (name: u: {
        assertion = auth.enable -> (auth.hosts ? ${u.hostId} && u.credentialsFile != null);
        message = ''
          services.vikunja-sync.taskwarrior.users.${name}: the local bus requires authorization,
          so this user needs services.vikunja-sync.taskwarrior.users.${name}.credentialsFile and
          its host id "${u.hostId}" in services.vikunja-sync.server.nats.authorization.hosts.
        '';
      }) (lib.filterAttrs (_: u: u.enable) cfg.taskwarrior.users);

      networking.firewall.allowedTCPPorts = lib.optional nats.openFirewall (
        config.services.nats.port or 4222
      );
    })
  ];
}
