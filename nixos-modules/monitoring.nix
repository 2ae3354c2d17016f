# Metrics on the server (optional): a local Prometheus (nixpkgs' services.prometheus)
# scraping the units' `/metrics`, the watchers given in `server.metrics.watcherTargets` and,
# for the hosts' lag, the local NATS through prometheus-nats-exporter; and Grafana (nixpkgs'
# services.grafana) with the Prometheus and Jaeger data sources and the dashboard of
# ./dashboards provisioned. Every panel links to the matching traces in Jaeger.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  srv = cfg.server;
  grafana = srv.grafana;
  vsLib = import ./lib.nix { inherit lib pkgs cfg; };
  inherit (lib) mkDefault mkIf mkOption types;

  enabled = cfg.enable && srv.enable;
  grafanaOn = enabled && grafana.enable;
  prometheusOn = enabled && (grafana.enable || srv.jaeger.monitor.enable);
  # the hosts' lag is their durable consumers' pending count, read from the local NATS
  natsExporterOn = grafanaOn && srv.nats.enable;
  natsMonitor = "127.0.0.1:8222";

  prometheusPort = config.services.prometheus.port or 9090;
  local = vsLib.connectHost;
  target = service: address: port: {
    targets = [ (vsLib.hostPort (local address) port) ];
    labels = { inherit service; };
  };

  scrapeConfigs =
    [
      {
        job_name = "vikunja-sync";
        scrape_interval = "15s";
        static_configs =
          [ (target "webhook-ingress" srv.metrics.address srv.metrics.ingressPort) ]
          ++ lib.optionals srv.metrics.enable [
            (target "reconciler" srv.metrics.address srv.metrics.reconcilerPort)
            (target "label-sync" srv.metrics.address srv.metrics.labelSyncPort)
          ]
          ++ lib.optional (srv.metrics.watcherTargets != [ ]) {
            targets = srv.metrics.watcherTargets;
            labels.service = "tw-watcher";
          };
      }
    ]
    ++ lib.optional natsExporterOn {
      job_name = "nats";
      scrape_interval = "15s";
      static_configs = [
        {
          targets = [ "127.0.0.1:${toString (config.services.prometheus.exporters.nats.port or 7777)}" ];
          labels.service = "nats";
        }
      ];
    };

  datasources = [
    {
      name = "vikunja-sync Prometheus";
      uid = "vsync-prometheus";
      type = "prometheus";
      access = "proxy";
      url = "http://127.0.0.1:${toString prometheusPort}";
    }
    {
      name = "vikunja-sync Jaeger";
      uid = "vsync-jaeger";
      type = "jaeger";
      access = "proxy";
      url = "http://${vsLib.hostPort (local srv.jaeger.listenAddress) vsLib.jaegerPorts.ui}";
    }
  ];
in
{
  options.services.vikunja-sync.server.grafana = {
    enable = lib.mkEnableOption ''
      Grafana (nixpkgs' `services.grafana`) with the vikunja-sync dashboard: end-to-end latency
      percentiles per direction, events and errors per service, dead letters and each host's
      lag, every panel linking to its traces in Jaeger. Turns on a local Prometheus
      (`services.prometheus`) that scrapes the units, the watchers in
      {option}`services.vikunja-sync.server.metrics.watcherTargets` and the local NATS.
      Needs {option}`services.vikunja-sync.server.jaeger.enable`'';

    listenAddress = mkOption {
      type = types.str;
      default = "127.0.0.1";
      description = "Address Grafana listens on (`services.grafana.settings.server.http_addr`).";
    };

    port = mkOption {
      type = types.port;
      default = 3000;
      description = "Port of Grafana (`services.grafana.settings.server.http_port`).";
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to open Grafana's port in the firewall.";
    };

    secretKeyFile = mkOption {
      type = vsLib.secretFileType;
      default = null;
      example = "/run/secrets/grafana-secret-key";
      description = ''
        File holding Grafana's `secret_key` (it signs cookies and encrypts data source
        secrets; NixOS 26.05 has no default for it). Passed to grafana.service with
        `LoadCredential=`. `null`: set `services.grafana.settings.security.secret_key`
        yourself.
      '';
    };
  };

  config = lib.mkMerge [
    # The conditions sit on the values, not around `services.*`, so the module also
    # evaluates where services.* is free-form (nix-eval-check's stub).
    {
      services.prometheus = {
        enable = mkIf prometheusOn true;
        listenAddress = mkIf prometheusOn (mkDefault "127.0.0.1");
        port = mkIf prometheusOn (mkDefault 9090);
        scrapeConfigs = mkIf prometheusOn scrapeConfigs;
        exporters.nats = mkIf natsExporterOn {
          enable = true;
          url = "http://${natsMonitor}";
          listenAddress = mkDefault "127.0.0.1";
          # -jsz=all: streams and consumers, with each consumer's pending count
          extraFlags = [ "-jsz=all" ];
        };
      };

      services.nats.settings = mkIf natsExporterOn { http = mkDefault natsMonitor; };

      services.grafana = {
        enable = mkIf grafanaOn true;
        settings = mkIf grafanaOn {
          server = {
            http_addr = mkDefault grafana.listenAddress;
            http_port = mkDefault grafana.port;
          };
          security.secret_key = mkIf (grafana.secretKeyFile != null) (
            mkDefault "$__file{/run/credentials/grafana.service/secret_key}"
          );
        };
        provision = mkIf grafanaOn {
          enable = true;
          datasources.settings = {
            apiVersion = 1;
            inherit datasources;
          };
          dashboards.settings = {
            apiVersion = 1;
            providers = [
              {
                name = "vikunja-sync";
                folder = "vikunja-sync";
                options.path = ./dashboards;
              }
            ];
          };
        };
      };
    }

    (mkIf grafanaOn {
      assertions = [
        {
          assertion = srv.jaeger.enable;
          message = "services.vikunja-sync.server.grafana.enable: the dashboard's panels link to traces in Jaeger; set services.vikunja-sync.server.jaeger.enable too.";
        }
      ];

      systemd.services.grafana.serviceConfig.LoadCredential = mkIf (grafana.secretKeyFile != null) [
        (vsLib.loadCredential "secret_key" grafana.secretKeyFile)
      ];

      networking.firewall.allowedTCPPorts = lib.optional grafana.openFirewall grafana.port;
    })
  ];
}
