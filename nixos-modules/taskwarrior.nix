# The Taskwarrior-host role: per user, tw-watcher as the system unit
# `vikunja-sync-tw-watcher@<user>` running as that user (an instance of a template, so
# `nixos-rebuild switch` restarts it when its configuration or the package changes), after
# `vikunja-sync-tw-setup@<user>`, which creates its directories and runs
# `vikunja-sync hook install` (the hook link and the UDA in the user's taskrc).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  vsLib = import ./lib.nix { inherit lib pkgs cfg; };
  hardening = import ./hardening.nix { inherit lib; };
  inherit (lib) mkDefault mkOption types;

  users = lib.filterAttrs (_: u: u.enable) cfg.taskwarrior.users;
  hostName = config.networking.hostName;

  # a stable path, so the links in home directories survive upgrades and garbage collection
  hookPath = "/etc/vikunja-sync/hook";
  watcher = "vikunja-sync-tw-watcher";
  setup = "vikunja-sync-tw-setup";
  # the template reads `/etc/vikunja-sync/tw-watcher/<user>.toml`
  configPath = user: "/etc/vikunja-sync/tw-watcher/${user}.toml";

  # any user name as a host id: characters outside [A-Za-z0-9_-] become "_"
  hostToken = lib.stringAsChars (c: if builtins.match "[A-Za-z0-9_-]" c != null then c else "_");
  defaultHostId = name: "${hostName}-${hostToken name}";

  userModule =
    { name, config, ... }:
    {
      options = {
        enable = mkOption {
          type = types.bool;
          default = true;
          description = "Whether to sync this user's Taskwarrior with Vikunja.";
        };

        hostId = mkOption {
          type = types.strMatching "[A-Za-z0-9_-]+";
          default = defaultHostId name;
          defaultText = lib.literalExpression ''"''${config.networking.hostName}-<name>"'';
          example = "alice-laptop";
          description = ''
            Identity of this Taskwarrior replica on the bus (`[taskwarrior] host`); its
            durable consumer is `host-<hostId>`. It must be unique across every machine and
            user on the same bus: two replicas with one id share a consumer and each gets
            only part of the changes. The default is unique per user on this machine, and
            across machines as long as their host names differ (a machine left at NixOS's
            default host name `nixos` gets a warning).
          '';
        };

        dataDir = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "/home/alice/.local/share/task";
          description = ''
            The user's Taskwarrior data directory (`[taskwarrior] data`). `null`: found the
            way Taskwarrior finds it (the taskrc's `data.location`, else `~/.task`). The hook
            is linked into its `hooks/`; the watcher keeps its socket, spool and state in its
            `.vikunja-sync/` unless `settings.taskwarrior` says otherwise. The watcher may
            write `~/.task` and `~/.local/share/task`; a data directory elsewhere must be
            given here.
          '';
        };

        taskrc = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "/home/alice/.config/task/taskrc";
          description = ''
            The user's Taskwarrior configuration file (`[taskwarrior] taskrc`). `null`: the
            one Taskwarrior reads (`~/.taskrc` when it exists, else
            `$XDG_CONFIG_HOME/task/taskrc`, the home-manager layout). The hook installation
            appends the UDA declaration (`uda.vikunja_id.type=numeric`,
            `uda.vikunja_id.label=Vikunja ID`) when it is missing.
          '';
        };

        taskPackage = mkOption {
          type = types.package;
          default = pkgs.taskwarrior3;
          defaultText = lib.literalExpression "pkgs.taskwarrior3";
          description = ''
            The Taskwarrior the watcher runs (`[taskwarrior] task_bin`). It is also put in
            `environment.systemPackages`, so the user's `task` and the watcher's are the same
            version: give every user of one machine the same one, and a user who installs
            Taskwarrior another way (home-manager) the same version as well.
          '';
        };

        socket = mkOption {
          type = types.nullOr types.str;
          default = null;
          example = "/home/alice/.local/state/vikunja-sync/watcher.sock";
          description = ''
            Unix datagram socket on which tw-watcher takes messages from the hook
            (`[taskwarrior] socket`). `null`: `<data>/.vikunja-sync/watcher.sock`, where the
            hook finds it on its own; another path needs `VIKUNJA_SYNC_SOCKET` in the
            user's environment.
          '';
        };

        installHook = mkOption {
          type = types.bool;
          default = true;
          description = ''
            Whether `vikunja-sync-tw-setup@<user>` runs `vikunja-sync hook install` before the
            watcher starts: it links the hook (`<data>/hooks/on-exit.vikunja-sync`, through
            the stable path `/etc/vikunja-sync/hook`) and declares the UDA in the taskrc.
            Off: run it yourself.
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
          example = "/run/secrets/vikunja-sync/laptop-alice.nk";
          description = ''
            This host's credentials on the bus: the NKey seed whose public key the server
            lists in {option}`services.vikunja-sync.server.nats.authorization.hosts`, or a
            NATS `.creds` file. Passed to the watcher with `LoadCredential=` (the file may be
            readable by root only). `null`: connect without credentials.
          '';
        };

        settings = mkOption {
          type = types.submodule { freeformType = vsLib.settingsFormat.type; };
          default = { };
          example = lib.literalExpression ''{ taskwarrior.state_dir = "/home/alice/.local/state/vikunja-sync"; }'';
          description = ''
            Settings for this user's watcher only, on top of
            {option}`services.vikunja-sync.settings`. The typed options above set defaults
            of the `[taskwarrior]` keys here, so these may override them. A `state_dir` or
            `socket` given here is created and made writable for the watcher.
          '';
        };
      };

      # The typed options only set defaults: `settings` may override any key they set.
      # (`task_bin` is the lowest layer of the rendered file instead: perUser)
      config.settings.taskwarrior = {
        host = mkDefault config.hostId;
        data = lib.mkIf (config.dataDir != null) (mkDefault config.dataDir);
        taskrc = lib.mkIf (config.taskrc != null) (mkDefault config.taskrc);
        socket = lib.mkIf (config.socket != null) (mkDefault config.socket);
      };
    };

  # Everything per user that the units need.
  perUser =
    name: u:
    let
      unit = "${watcher}@${name}";
      home = config.users.users.${name}.home or "/home/${name}";
      credentialSettings = lib.optionalAttrs (u.credentialsFile != null) {
        bus.credentials_file = vsLib.credentialPath unit "nats-creds";
      };
      settings = lib.foldl' lib.recursiveUpdate { } [
        # a default below `settings`, kept out of the option so that reading the user's
        # `[taskwarrior]` keys does not evaluate the package
        { taskwarrior.task_bin = lib.getExe' u.taskPackage "task"; }
        cfg.settings
        u.settings
        credentialSettings
      ];
      tw = settings.taskwarrior;
      # directories the watcher writes besides its data directory; created by the setup unit
      ownDirs =
        lib.optional (tw ? state_dir) tw.state_dir ++ lib.optional (tw ? socket) (dirOf tw.socket);
      dataDirs =
        if tw ? data then
          [ tw.data ]
        else
          [
            "${home}/.task"
            "${home}/.local/share/task"
          ];
      setupCommands =
        map (dir: [
          (lib.getExe' pkgs.coreutils "mkdir")
          "-p"
          dir
        ]) ownDirs
        ++ lib.optional u.installHook (
          [
            (lib.getExe' cfg.package "vikunja-sync")
            "--config"
            (configPath name)
            "hook"
            "install"
            "--hook-bin"
            hookPath
          ]
          ++ lib.optional u.undoHook "--with-undo"
        );
    in
    {
      inherit home setupCommands;
      configFile = vsLib.mkConfigFile "tw-watcher-${name}" [ settings ];
      readWritePaths = dataDirs ++ ownDirs;
    };
in
{
  options.services.vikunja-sync.taskwarrior.users = mkOption {
    type = types.attrsOf (types.submodule userModule);
    default = { };
    example = lib.literalExpression ''
      {
        alice = { };
        bob.hostId = "bob-desk";
      }
    '';
    description = ''
      Users (declared in `users.users`) whose Taskwarrior syncs with Vikunja. For each, the
      watcher runs as the system unit `vikunja-sync-tw-watcher@<name>.service` as that user
      (from boot, no login needed, restarted by `nixos-rebuild switch` when it changed), after
      `vikunja-sync-tw-setup@<name>.service` has linked the hook into the user's data
      directory and declared the UDA `vikunja_id` in the user's taskrc.
    '';
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        # The templates; every user is an instance (drop-ins below). Without a user they
        # run nothing.
        systemd.services."${setup}@" = {
          description = "vikunja-sync: prepare %i's Taskwarrior for the watcher (directories, hook, UDA)";
          documentation = [ "https://github.com/vikunja-sync/vikunja-sync/blob/main/docs/NIXOS.md" ];
          serviceConfig = lib.mkMerge [
            {
              Type = "oneshot";
              RemainAfterExit = true;
              User = "%i";
            }
            hardening.asUser
          ];
        };

        systemd.services."${watcher}@" = {
          description = "vikunja-sync Taskwarrior watcher for %i";
          documentation = [ "https://github.com/vikunja-sync/vikunja-sync/blob/main/docs/NIXOS.md" ];
          wants = [ "network-online.target" ];
          after = [ "network-online.target" ];
          serviceConfig = lib.mkMerge [
            {
              # READY=1 once connected and listening on the hook's socket
              Type = "notify";
              User = "%i";
              # `%i` is the unit's instance (the user): not quoted, systemd expands it
              ExecStart = "${vsLib.execLine [ (lib.getExe' cfg.package "tw-watcher") "--config" ]} ${configPath "%i"}";
              Restart = "on-failure";
              RestartSec = "5s";
              TimeoutStopSec = "30s";
            }
            hardening.asUser
          ];
        };
      }

      (lib.mkIf (users != { }) {
        assertions =
          [
            {
              assertion = lib.allUnique (lib.mapAttrsToList (_: u: u.hostId) users);
              message = "services.vikunja-sync.taskwarrior.users: every user needs its own hostId on the bus.";
            }
          ]
          ++ lib.mapAttrsToList (name: _: {
            assertion = config.users.users ? ${name};
            message = "services.vikunja-sync.taskwarrior.users.${name}: there is no user ${name}; declare it in users.users.${name} or remove it from services.vikunja-sync.taskwarrior.users.";
          }) users;

        warnings = lib.concatLists (
          lib.mapAttrsToList (
            name: u:
            lib.optional (hostName == "nixos" && u.hostId == defaultHostId name)
              "services.vikunja-sync.taskwarrior.users.${name}.hostId is \"${u.hostId}\" because networking.hostName is NixOS's default \"nixos\": another machine left at that default would share this host's consumer on the bus and each would miss changes. Set networking.hostName or the hostId."
          ) users
        );

        environment.etc =
          {
            "vikunja-sync/hook".source = lib.getExe' cfg.package "vikunja-sync-hook";
          }
          // lib.mapAttrs' (
            name: u: lib.nameValuePair "vikunja-sync/tw-watcher/${name}.toml" { source = (perUser name u).configFile; }
          ) users;

        environment.systemPackages = lib.unique (lib.mapAttrsToList (_: u: u.taskPackage) users);

        # The instances: drop-ins on the templates (NixOS manual, "Template units"), so
        # switch-to-configuration sees their changes and restarts them.
        systemd.services = lib.mkMerge (
          lib.mapAttrsToList (
            name: u:
            let
              p = perUser name u;
              hasSetup = p.setupCommands != [ ];
            in
            {
              "${watcher}@${name}" = {
                overrideStrategy = "asDropin";
                wantedBy = [ "multi-user.target" ];
                wants = lib.optional hasSetup "${setup}@${name}.service";
                after = lib.optional hasSetup "${setup}@${name}.service";
                restartTriggers = [ p.configFile ];
                serviceConfig = lib.mkMerge [
                  { ReadWritePaths = vsLib.readWritePaths p.readWritePaths; }
                  (lib.mkIf (u.credentialsFile != null) {
                    LoadCredential = [ (vsLib.loadCredential "nats-creds" u.credentialsFile) ];
                  })
                ];
              };
            }
            // lib.optionalAttrs hasSetup {
              "${setup}@${name}" = {
                overrideStrategy = "asDropin";
                wantedBy = [ "multi-user.target" ];
                restartTriggers = [ p.configFile ];
                serviceConfig = {
                  ExecStart = map vsLib.execLine p.setupCommands;
                  # it may create the taskrc or the data directory in the home directory
                  ReadWritePaths = vsLib.readWritePaths ([ p.home ] ++ p.readWritePaths);
                };
              };
            }
          ) users
        );
      })
    ]
  );
}
