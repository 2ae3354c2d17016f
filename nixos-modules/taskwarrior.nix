# The Taskwarrior-host role: per user, tw-watcher as that user's systemd user
# service `tw-watcher@<user>.service` (lingering, so it runs without a login);
# before each start `vikunja-sync hook install` links the hook into the user's
# Taskwarrior data directory and declares the UDA in the user's taskrc.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  vsLib = import ./lib.nix { inherit lib pkgs; };
  hardening = import ./hardening.nix { inherit lib; };
  inherit (lib) mkOption types;

  users = lib.filterAttrs (_: u: u.enable) cfg.taskwarrior.users;

  # a stable path, so the links in home directories survive upgrades and garbage collection
  hookPath = "/etc/vikunja-sync/hook";

  userModule =
    { name, config, ... }:
    let
      home = cfg_users.${name}.home or "/home/${name}";
    in
    {
      options = {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = "Whether to sync this user's Taskwarrior with Vikunja.";
        };

        hostId = mkOption {
          type = types.strMatching "[A-Za-z0-9_-]+";
          default = hostName;
          defaultText = lib.literalExpression "config.networking.hostName";
          example = "laptop";
          description = ''
            Identity of this Taskwarrior replica on the bus (`[taskwarrior] host`); its
            durable consumer is `host-<hostId>`. Unique across all machines and users
            syncing with the same bus.
          '';
        };

        dataDir = mkOption {
          type = types.str;
          default = "${home}/.task";
          defaultText = lib.literalExpression ''"''${config.users.users.<name>.home}/.task"'';
          description = ''
            The user's Taskwarrior data directory (`data.location`, `[taskwarrior] data`).
            The hook is linked into its `hooks/`; the watcher keeps its socket, spool and
            state in its `.vikunja-sync/`.
          '';
        };

        taskrc = mkOption {
          type = types.str;
          default = "${home}/.taskrc";
          defaultText = lib.literalExpression ''"''${config.users.users.<name>.home}/.taskrc"'';
          description = ''
            The user's Taskwarrior configuration file (`[taskwarrior] taskrc`). The hook
            installation appends the UDA declaration (`uda.vikunja_id.type=numeric`,
            `uda.vikunja_id.label=Vikunja ID`) when it is missing, creating the file if
            needed. Its `data.location` must be this user's `dataDir`.
          '';
        };

        taskPackage = mkOption {
          type = types.package;
          default = pkgs.taskwarrior3;
          defaultText = lib.literalExpression "pkgs.taskwarrior3";
          description = ''
            The Taskwarrior the watcher runs (`[taskwarrior] task_bin`); it is also
            installed for the user, so the hook and the watcher see the same version.
          '';
        };

        socket = mkOption {
          type = types.str;
          default = "${config.dataDir}/.vikunja-sync/watcher.sock";
          defaultText = lib.literalExpression ''"''${dataDir}/.vikunja-sync/watcher.sock"'';
          description = ''
            Unix datagram socket on which tw-watcher takes messages from the hook
            (`[taskwarrior] socket`). The hook finds the default path on its own; for
            another path the user's environment needs `VIKUNJA_SYNC_SOCKET`.
          '';
        };

        installHook = mkOption {
          type = types.bool;
          default = true;
          description = ''
            Whether each start of the watcher first runs `vikunja-sync hook install`:
            it links the hook (`<dataDir>/hooks/on-exit.vikunja-sync`, through the stable
            path `/etc/vikunja-sync/hook`) and declares the UDA in the taskrc. Off: run
            it yourself.
          '';
        };

        undoHook = mkOption {
          type = types.bool;
          default = false;
          description = ''
            Whether to also link `on-modify.vikunja-sync`, which is where Taskwarrior 2.6
            reports `task undo` (one more process per changed task). Not needed with
            Taskwarrior 3.
          '';
        };

        credentialsFile = mkOption {
          type = vsLib.secretFileType;
          default = null;
          example = "/home/alice/.config/vikunja-sync/nats.creds";
          description = ''
            NATS credentials file for this user's watcher, passed with `LoadCredential=`
            by the user's service manager, so it must be readable by the user.
            `null`: connect without credentials.
          '';
        };

        settings = mkOption {
          type = types.submodule { freeformType = vsLib.settingsFormat.type; };
          default = { };
          example = lib.literalExpression ''{ taskwarrior.state_dir = "/home/alice/.local/state/vikunja-sync"; }'';
          description = ''
            Settings for this user's watcher only, on top of
            {option}`services.vikunja-sync.settings`; the `[taskwarrior]` keys of the
            typed options above win over both.
          '';
        };
      };
    };

  cfg_users = config.users.users;
  hostName = config.networking.hostName;

  configFileFor =
    name: u:
    vsLib.mkConfigFile "tw-watcher-${name}" [
      cfg.settings
      u.settings
      {
        taskwarrior = {
          host = u.hostId;
          inherit (u) taskrc socket;
          data = u.dataDir;
          task_bin = lib.getExe' u.taskPackage "task";
        };
      }
    ];

  # Runs unsandboxed ("+") before the watcher: the project's own installer, which
  # replaces only its own links and leaves foreign hooks and taskrc lines alone.
  setupCommand =
    name: u:
    lib.concatStringsSep " " (
      [
        "+${lib.getExe' cfg.package "vikunja-sync"}"
        "--config ${configFileFor name u}"
        "hook install"
        "--data ${lib.escapeShellArg u.dataDir}"
        "--taskrc ${lib.escapeShellArg u.taskrc}"
        "--hook-bin ${hookPath}"
      ]
      ++ lib.optional u.undoHook "--with-undo"
    );

  userUnit =
    name: u:
    let
      configFile = configFileFor name u;
    in
    {
      description = "vikunja-sync Taskwarrior watcher for ${name}";
      documentation = [ "https://github.com/vikunja-sync/vikunja-sync/blob/main/README.md#nixos" ];
      wantedBy = [ "default.target" ];
      # every user's manager sees this unit; it is only for its own user
      unitConfig.ConditionUser = name;
      restartTriggers = [ configFile ];
      serviceConfig = lib.mkMerge [
        {
          Type = "notify";
          ExecStart = "${lib.getExe' cfg.package "tw-watcher"} --config ${configFile}";
          Restart = "on-failure";
          RestartSec = "5s";
          TimeoutStopSec = "30s";
        }
        (lib.mkIf u.installHook { ExecStartPre = setupCommand name u; })
        # The credentials directory of a user service is under /run/user/<uid>, which
        # is not known here: point the config at it with the `%d` specifier instead.
        (lib.mkIf (u.credentialsFile != null) {
          LoadCredential = "nats-creds:${u.credentialsFile}";
          Environment = [ "VIKUNJA_SYNC_BUS_CREDENTIALS_FILE=%d/nats-creds" ];
        })
        (hardening.user {
          readWritePaths = [
            u.dataDir
            (dirOf u.socket)
          ];
        })
      ];
    };
in
{
  options.services.vikunja-sync.taskwarrior.users = mkOption {
    type = types.attrsOf (types.submodule userModule);
    default = { };
    example = lib.literalExpression ''
      {
        alice = { hostId = "laptop"; };
      }
    '';
    description = ''
      Users whose Taskwarrior syncs with Vikunja. For each, tw-watcher runs as the
      user service `tw-watcher@<name>.service` (with lingering, so it starts at boot
      without a login), the hook is linked into the user's data directory and the
      taskrc declares the UDA `vikunja_id`. The users themselves are
      declared in `users.users`.
    '';
  };

  config = lib.mkIf (cfg.enable && users != { }) {
    assertions = [
      {
        assertion = lib.allUnique (lib.mapAttrsToList (_: u: u.hostId) users);
        message = "services.vikunja-sync.taskwarrior.users: every user needs its own hostId on the bus.";
      }
    ];

    environment.etc."vikunja-sync/hook".source = lib.getExe' cfg.package "vikunja-sync-hook";

    users.users = lib.mapAttrs (_: u: {
      linger = true;
      packages = [ u.taskPackage ];
    }) users;

    systemd.user.services = lib.mapAttrs' (
      name: u: lib.nameValuePair "tw-watcher@${name}" (userUnit name u)
    ) users;
  };
}
