# Helpers shared by the module files: rendering a unit's TOML and naming credentials.
{ lib, pkgs }:
let
  settingsFormat = pkgs.formats.toml { };
in
{
  inherit settingsFormat;

  # The TOML one unit reads: the shared `settings`, then each layer in `layers`
  # on top (later layers win), rendered to the store. Secret *paths* only.
  mkConfigFile =
    name: layers: settingsFormat.generate "${name}.toml" (lib.foldl' lib.recursiveUpdate { } layers);

  # Where systemd puts a system service's credential (LoadCredential=).
  credentialPath = unit: credential: "/run/credentials/${unit}.service/${credential}";

  # A LoadCredential= entry. Without a file the credential is looked up by name
  # in systemd's credential store (/etc/credstore, /run/credstore, ...).
  loadCredential = credential: file: if file == null then credential else "${credential}:${file}";

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
}
