# systemd sandboxing shared by every unit of the module (not a NixOS module: a
# plain function imported by the unit definitions). The set follows nixpkgs'
# nats.nix, ncps.nix and mosquitto.nix; `systemd-analyze security <unit>` scores it.
{ lib }:
let
  # What system and user services both get.
  common = {
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    NoNewPrivileges = true;
    PrivateTmp = true;
    ProtectClock = true;
    ProtectControlGroups = true;
    ProtectHostname = true;
    ProtectKernelLogs = true;
    ProtectKernelModules = true;
    ProtectKernelTunables = true;
    ProtectSystem = "strict";
    # AF_UNIX: sd_notify readiness (Type=notify) goes through a Unix socket
    RestrictAddressFamilies = [
      "AF_UNIX"
      "AF_INET"
      "AF_INET6"
    ];
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    SystemCallArchitectures = "native";
    SystemCallFilter = [
      "@system-service"
      "~@privileged"
      "~@resources"
    ];
    UMask = "0077";
  };
in
{
  # System services: DynamicUser, a read-only file system and no capabilities.
  system =
    {
      # a privileged listen port (< 1024) needs CAP_NET_BIND_SERVICE and no user namespace
      bindPrivilegedPort ? false,
    }:
    common
    // {
      DynamicUser = true;
      CapabilityBoundingSet = if bindPrivilegedPort then [ "CAP_NET_BIND_SERVICE" ] else "";
      DevicePolicy = "closed";
      PrivateDevices = true;
      PrivateMounts = true;
      PrivateUsers = !bindPrivilegedPort;
      ProcSubset = "pid";
      ProtectHome = true;
      ProtectProc = "invisible";
      RemoveIPC = true;
    }
    // lib.optionalAttrs bindPrivilegedPort { AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ]; };

  # User services (tw-watcher): they run as the user and write that user's
  # Taskwarrior data, so no DynamicUser and no ProtectHome; the file system is
  # read-only except for the given paths. The user manager sets these up in an
  # unprivileged user namespace.
  user =
    {
      readWritePaths ? [ ],
    }:
    common
    // {
      # "-": a path that does not exist yet is skipped instead of failing the unit
      ReadWritePaths = map (p: "-${p}") readWritePaths;
    };
}
