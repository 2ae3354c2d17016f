# The operator CLI on the server, for the members of an admin group: `vikunja-sync status`
# (reconcile, repair, adopt, hosts) run with the server's configuration and credentials.
#
# How it reads credentials without exposing them: the `vikunja-sync` on PATH runs, through a
# sudo rule limited to one store path, a root script that accepts only those subcommands and
# starts the CLI as a transient systemd unit (`systemd-run --pipe --wait`) under a dynamic
# user, with the same LoadCredential= and sandbox as the server units. systemd copies the
# credentials into that unit's private credentials directory; neither the admin nor the
# admin's processes can read the files, and the CLI never prints a secret. Other
# subcommands (`hook install`, `up`, `demo`, ...) run as the calling user, without them.
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
  admin = srv.admin;
  vsLib = import ./lib.nix { inherit lib pkgs cfg; };
  hardening = import ./hardening.nix { inherit lib; };
  inherit (lib) mkOption types;

  enabled = cfg.enable && srv.enable && admin.enable;
  adminSubcommands = [
    "status"
    "reconcile"
    "repair"
    "adopt"
    "hosts"
  ];
  exe = lib.getExe' cfg.package "vikunja-sync";
  configFile = vsLib.mkConfigFile "vikunja-sync-admin" [ cfg.settings ];

  credentials =
    lib.optional (cfg.bus.credentialsFile != null) {
      name = "nats-creds";
      file = cfg.bus.credentialsFile;
      key = "VIKUNJA_SYNC_BUS_CREDENTIALS_FILE";
    }
    ++ [
      {
        name = "vikunja-token";
        file = srv.vikunja.tokenFile;
        key = "VIKUNJA_SYNC_VIKUNJA_TOKEN_FILE";
      }
    ];

  # LoadCredential= of a transient unit: set over D-Bus, where systemd resolves no specifier
  # (so, unlike vsLib.loadCredential for unit files, a `%` stays as it is)
  transientCredential = c: if c.file == null then c.name else "${c.name}:${c.file}";

  # the server units' sandbox as `systemd-run --property=` arguments (one per list item)
  property =
    name: value:
    "--property=${name}=${
      if lib.isBool value then
        lib.boolToString value
      else
        toString value
    }";
  sandbox = lib.concatLists (
    lib.mapAttrsToList (
      name: value: if lib.isList value then map (property name) value else [ (property name value) ]
    ) (hardening.system { })
  );

  # Runs as root (sudo): starts the CLI in a sandboxed transient unit with the credentials.
  rootSide = pkgs.writeShellScript "vikunja-sync-admin" ''
    set -eu
    case "''${1-}" in
      ${lib.concatStringsSep "|" adminSubcommands}) ;;
      *)
        echo "vikunja-sync (admin): only ${lib.concatStringsSep ", " adminSubcommands} run with the server's credentials" >&2
        exit 64
        ;;
    esac
    unit="vikunja-sync-admin-$$"
    creds="/run/credentials/$unit.service"
    exec ${pkgs.systemd}/bin/systemd-run --quiet --pipe --wait --collect \
      --service-type=exec --unit="$unit" \
      ${lib.escapeShellArgs sandbox} \
      ${
        lib.concatMapStringsSep " \\\n  " (
          c:
          "${lib.escapeShellArg "--property=LoadCredential=${transientCredential c}"} --setenv=${c.key}=\"$creds/${c.name}\""
        ) credentials
      } \
      -- ${exe} --config ${configFile} "$@"
  '';

  # The `vikunja-sync` on PATH: admin subcommands through sudo, the rest as the caller.
  wrapper = pkgs.writeShellScriptBin "vikunja-sync" ''
    case "''${1-}" in
      ${lib.concatStringsSep "|" adminSubcommands}) ;;
      *) exec ${exe} "$@" ;;
    esac
    if [ "$(${pkgs.coreutils}/bin/id -u)" = 0 ]; then
      exec ${rootSide} "$@"
    fi
    if ! ${pkgs.coreutils}/bin/id -nG | ${pkgs.coreutils}/bin/tr ' ' '\n' | ${pkgs.gnugrep}/bin/grep -qx ${lib.escapeShellArg admin.group}; then
      echo "vikunja-sync: '$1' uses the server's credentials, which only members of the group ${admin.group} may do (a new member logs in again first)" >&2
      exit 77
    fi
    exec /run/wrappers/bin/sudo -n ${rootSide} "$@"
  '';

  sudoRule = {
    groups = [ admin.group ];
    commands = [
      {
        command = "${rootSide}";
        options = [ "NOPASSWD" ];
      }
    ];
  };
in
{
  options.services.vikunja-sync.server.admin = {
    enable = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether the server's `vikunja-sync` runs `status`, `reconcile`, `repair`, `adopt`
        and `hosts` with the server's configuration and credentials for members of
        {option}`services.vikunja-sync.server.admin.group` (through a sudo rule and a
        sandboxed transient unit; the credentials stay unreadable to them).
      '';
    };

    group = mkOption {
      type = types.str;
      default = "vikunja-sync-admin";
      description = "Group whose members may run the operator CLI with the server's credentials; add admins with `users.users.<name>.extraGroups`.";
    };
  };

  config = lib.mkMerge [
    (lib.mkIf enabled {
      users.groups.${admin.group} = { };
      security.sudo.extraRules = [ sudoRule ];
      environment.systemPackages = [ (lib.hiPrio wrapper) ];
    })
    # the same rule for sudo-rs, where this nixpkgs has it
    (lib.optionalAttrs (lib.hasAttrByPath [ "security" "sudo-rs" "extraRules" ] options) {
      security.sudo-rs.extraRules = lib.mkIf enabled [ sudoRule ];
    })
  ];
}
