# nixpkgs' real Vikunja as both VM tests run it: registration open for the test
# user, webhooks on and allowed to reach webhook-ingress on 127.0.0.1 (a
# non-routable address).
{ config, ... }:
{
  services.vikunja = {
    enable = true;
    frontendScheme = "http";
    frontendHostname = config.networking.hostName;
    settings = {
      service.enableregistration = true;
      outgoingrequests.allownonroutableips = true;
      webhooks = {
        enabled = true;
        allownonroutableips = true;
      };
    };
  };
}
