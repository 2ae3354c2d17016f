# systemd sandboxing shared by every unit of the module (not a NixOS module: a
# plain function imported by the unit definitions). The set follows nixpkgs'
# nats.nix, ncps.nix and mosquitto.nix; `systemd-analyze security <unit>` scores it.
{ lib }:
let
  # What every unit gets.
  common = {
    CapabilityBoundingSet = "";
    DevicePolicy = "closed";
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    NoNewPrivileges = true;
    PrivateDevices = true;
    PrivateMounts = true;
    PrivateTmp = true;
    ProcSubset = "pid";
    ProtectClock = true;
    ProtectControlGroups = true;
    ProtectHostname = true;
    ProtectKernelLogs = true;
    ProtectKernelModules = true;
    ProtectKernelTunables = true;
    ProtectProc = "invisible";
    ProtectSystem = "strict";
    # AF_UNIX: sd_notify readiness (Type=notify) and the hook's datagram socket
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
  # Server units: a dynamic user, a read-only file system, no capabilities.
  system =
    {
      # a privileged listen port (< 1024) needs CAP_NET_BIND_SERVICE and no user namespace
      bindPrivilegedPort ? false,
    }:
    common
    // {
      DynamicUser = true;
      CapabilityBoundingSet = if bindPrivilegedPort then [ "CAP_NET_BIND_SERVICE" ] else "";
      PrivateUsers = !bindPrivilegedPort;
      ProtectHome = true;
      RemoveIPC = true;
    }
    // lib.optionalAttrs bindPrivilegedPort { AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ]; };

  # System units running as a login user (tw-watcher, its setup): they write that user's
  # Taskwarrior files, so no DynamicUser and no ProtectHome; the file system stays read-only
  # except for the ReadWritePaths= each user's instance adds (taskwarrior.nix). Not RemoveIPC
  # either: it would remove the IPC objects of the user's other processes whenever the unit
  # stops.
  asUser =
    common
    // {
      PrivateUsers = true;
    };
}
