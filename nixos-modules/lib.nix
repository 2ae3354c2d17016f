# Helpers shared by the module files: rendering (and checking) a unit's TOML, naming
# credentials, quoting command lines and paths for systemd.
{
  lib,
  pkgs,
  cfg,
}:
let
  # Every `%` doubled: systemd resolves specifiers (`%h`, `%s`, `%i`, ...) in unit settings
  # such as ReadWritePaths= and LoadCredential=, so a literal `%` in a path must be `%%`.
  escapeSpecifiers = lib.replaceStrings [ "%" ] [ "%%" ];

  # One Exec*= argument: nixpkgs' nixos/lib/utils.nix `escapeSystemdExecArg`, the same
  # definition (JSON-quoted, so systemd takes it as one word; `%` and `$` doubled, so systemd
  # expands no specifier or variable in it; lib.escapeShellArg does neither). Kept here so the
  # module quotes the same way whatever `utils` its evaluator passes (nix-eval-check's stub
  # NixOS passes a shell-quoting stand-in).
  escapeSystemdExecArg =
    arg:
    let
      s =
        if lib.isPath arg then
          "${arg}"
        else if lib.isString arg then
          arg
        else if lib.isInt arg || lib.isFloat arg || lib.isDerivation arg then
          toString arg
        else
          throw "escapeSystemdExecArg only allows strings, paths, numbers and derivations";
    in
    lib.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (builtins.toJSON s);

  settingsFormat = pkgs.formats.toml { };

  # Whether this machine can run the package it builds for (not when cross-compiling).
  canRunPackage = pkgs.stdenv.buildPlatform.canExecute pkgs.stdenv.hostPlatform;

  # The rendered TOML, checked at build time by the program that will read it: a misspelled
  # key in `settings` fails `nixos-rebuild build` instead of a unit at run time (exit 64).
  # Interface: `vikunja-sync config check FILE` exits 0 when FILE is a valid config, 64 with
  # the reason otherwise; it reads no secret file and connects nowhere. A package without
  # that command (older than the check) is let through with a note in the build log.
  checkedConfig =
    name: file:
    if !(cfg.checkConfig && canRunPackage) then
      file
    else
      pkgs.runCommandLocal "${name}-checked.toml" { nativeBuildInputs = [ cfg.package ]; } ''
        if vikunja-sync config check --help >/dev/null 2>&1; then
          vikunja-sync config check ${file}
        else
          echo "note: this vikunja-sync has no 'config check'; ${name}.toml is not checked" >&2
        fi
        ln -s ${file} $out
      '';
in
{
  inherit settingsFormat;

  # The TOML one unit reads: the layers merged (later ones win), rendered to the store and
  # checked. Secret *paths* only.
  mkConfigFile =
    name: layers:
    checkedConfig name (
      settingsFormat.generate "${name}.toml" (lib.foldl' lib.recursiveUpdate { } layers)
    );

  # One Exec*= line: every argument quoted so systemd expands no `%` specifier or `$`
  # variable in it (nixpkgs' utils.escapeSystemdExecArgs).
  execLine = lib.concatMapStringsSep " " escapeSystemdExecArg;

  # ReadWritePaths= entries: "-" (a path that does not exist is skipped instead of failing
  # the unit), and no specifier resolved in the path.
  readWritePaths = map (p: "-${escapeSpecifiers p}");

  # Where systemd puts a system service's credential (LoadCredential=).
  credentialPath = unit: credential: "/run/credentials/${unit}.service/${credential}";

  # A LoadCredential= entry of a unit file (specifiers in the path escaped). Without a file
  # the credential is looked up by name in systemd's credential store (/etc/credstore,
  # /run/credstore, ...).
  loadCredential =
    credential: file: if file == null then credential else "${credential}:${escapeSpecifiers file}";

  # "host:port", with brackets around an IPv6 address
  hostPort =
    host: port: if lib.hasInfix ":" host then "[${host}]:${toString port}" else "${host}:${toString port}";

  # the address a local client uses to reach a listener bound to `host`
  connectHost =
    host:
    if
      lib.elem host [
        ""
        "0.0.0.0"
      ]
    then
      "127.0.0.1"
    else if host == "::" then
      "::1"
    else
      host;

  # Secret files must stay outside the store (a Nix path literal would be copied into it).
  secretFileType = lib.types.nullOr (
    lib.types.pathWith {
      inStore = false;
      absolute = true;
    }
  );

  # Jaeger's fixed ports (jaeger.nix listens on them, monitoring.nix reads from them).
  jaegerPorts = {
    otlpGrpc = 4317;
    otlpHttp = 4318;
    ui = 16686;
    queryGrpc = 16685;
    health = 13133;
    spanMetrics = 8889;
  };

  # A NATS NKey public key of a user ("U" + 55 base32 characters): not a secret.
  nkeyType = lib.types.strMatching "U[A-Z2-7]{55}";
}
