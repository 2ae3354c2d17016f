# Evaluates NixOS configurations that import our module without nixpkgs: nixpkgs' real lib/,
# fake packages, and a free-form stand-in for NixOS in which the options that several of our
# module's files define (lists) are declared. Enough to read the module's options, units,
# assertions and warnings (.ci/nix-check.sh); not proof that real NixOS accepts the values
# (that is nix-eval-check in full mode, and the VM tests).
{ lib, root }:
let
  inherit (lib) mkOption types;
  fake =
    name:
    {
      type = "derivation";
      inherit name;
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
      meta.mainProgram = name;
    };
  format = _: {
    type = types.attrsOf types.anything;
    generate = name: _: fake name;
  };
  platform = lib.systems.elaborate "x86_64-linux";
  pkgs = {
    inherit lib;
    formats = {
      toml = format;
      yaml = format;
      json = format;
    };
    stdenv = {
      hostPlatform = platform;
      buildPlatform = platform;
    };
    writeShellScript = name: _: fake name;
    writeShellScriptBin = name: _: fake name;
    runCommandLocal = name: _: _: fake name;
  }
  // lib.genAttrs [ "taskwarrior3" "jaeger" "coreutils" "gnugrep" "systemd" "vikunja-sync" ] fake;
  list = mkOption {
    type = types.listOf types.anything;
    default = [ ];
  };
  base = {
    freeformType = types.lazyAttrsOf types.anything;
    options = {
      assertions = list;
      warnings = list;
      environment.systemPackages = list;
      networking.firewall.allowedTCPPorts = list;
      services.prometheus.scrapeConfigs = list;
    };
    config = {
      networking.hostName = lib.mkDefault "host";
      services.vikunja-sync.package = fake "vikunja-sync";
    };
  };
in
# the configuration of these modules, with the failed assertions' messages
modules:
let
  eval = lib.evalModules {
    modules = [
      base
      (root + "/nixos-modules")
    ] ++ modules;
    # no `utils`: the module quotes for systemd itself (nixos-modules/lib.nix)
    specialArgs = { inherit pkgs; };
  };
in
eval
// {
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) eval.config.assertions);
}
