# Optional tracing for the server: a local Jaeger v2 (an OpenTelemetry collector
# distribution) receiving OTLP on 4317 (gRPC) / 4318 (HTTP), UI on 16686, traces
# kept in memory. With `monitor.enable`, the spanmetrics connector turns spans into
# RED metrics that a local Prometheus (nixpkgs' services.prometheus) scrapes and
# Jaeger's Monitor tab reads back (jaegertracing/jaeger cmd/jaeger/config-spm.yaml).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.services.vikunja-sync;
  jcfg = cfg.server.jaeger;
  vsLib = import ./lib.nix { inherit lib pkgs cfg; };
  hardening = import ./hardening.nix { inherit lib; };
  inherit (lib) mkOption types optionalAttrs;

  yaml = pkgs.formats.yaml { };
  json = pkgs.formats.json { };
  enabled = cfg.enable && cfg.server.enable && jcfg.enable;
  monitor = enabled && jcfg.monitor.enable;

  ports = vsLib.jaegerPorts;
  listen = vsLib.hostPort jcfg.listenAddress;
  prometheusUrl = "http://127.0.0.1:${toString (config.services.prometheus.port or 9090)}";

  uiConfig = json.generate "jaeger-ui.json" { monitor.menuEnabled = true; };

  jaegerConfig = yaml.generate "jaeger.yaml" (
    {
      service = {
        extensions = [
          "jaeger_storage"
          "jaeger_query"
          "healthcheckv2"
        ];
        pipelines = {
          traces = {
            receivers = [ "otlp" ];
            processors = [ "batch" ];
            exporters = [ "jaeger_storage_exporter" ] ++ lib.optional monitor "spanmetrics";
          };
        }
        // optionalAttrs monitor {
          "metrics/spanmetrics" = {
            receivers = [ "spanmetrics" ];
            exporters = [ "prometheus" ];
          };
        };
      };
      extensions = {
        healthcheckv2 = {
          use_v2 = true;
          http.endpoint = "127.0.0.1:${toString ports.health}";
        };
        jaeger_storage = {
          backends.traces.memory.max_traces = jcfg.maxTraces;
        }
        // optionalAttrs monitor {
          metric_backends.metrics.prometheus = {
            endpoint = prometheusUrl;
            normalize_calls = true;
            normalize_duration = true;
          };
        };
        jaeger_query = {
          storage = {
            traces = "traces";
          }
          // optionalAttrs monitor { metrics = "metrics"; };
          http.endpoint = listen ports.ui;
          grpc.endpoint = "127.0.0.1:${toString ports.queryGrpc}";
        }
        // optionalAttrs monitor { ui.config_file = "${uiConfig}"; };
      };
      receivers.otlp.protocols = {
        grpc.endpoint = listen ports.otlpGrpc;
        http.endpoint = listen ports.otlpHttp;
      };
      processors.batch = { };
      exporters = {
        jaeger_storage_exporter.trace_storage = "traces";
      }
      // optionalAttrs monitor { prometheus.endpoint = "127.0.0.1:${toString ports.spanMetrics}"; };
    }
    // optionalAttrs monitor { connectors.spanmetrics = { }; }
  );

in
{
  options.services.vikunja-sync.server.jaeger = {
    enable = lib.mkEnableOption "a local Jaeger (v2) that receives the units' traces over OTLP and shows them on port 16686 (unit `vikunja-sync-jaeger.service`)";

    package = lib.mkPackageOption pkgs "jaeger" {
      extraDescription = "nixpkgs has Jaeger v2 as `jaeger` since 2026 (NixOS/nixpkgs#512257); with an older nixpkgs, set a Jaeger v2 build here.";
    };

    listenAddress = mkOption {
      type = types.str;
      default = "127.0.0.1";
      example = "0.0.0.0";
      description = ''
        Address of Jaeger's OTLP receivers (gRPC port 4317, HTTP port 4318) and of its
        UI (port 16686). Use a routable address, with
        {option}`services.vikunja-sync.server.jaeger.openFirewall`, to receive the traces
        of tw-watcher on the Taskwarrior machines.
      '';
    };

    openFirewall = mkOption {
      type = types.bool;
      default = false;
      description = "Whether to open Jaeger's OTLP ports (4317, 4318) and UI port (16686) in the firewall.";
    };

    maxTraces = mkOption {
      type = types.ints.positive;
      default = 100000;
      description = "How many traces Jaeger keeps in memory (the oldest go first); nothing is kept across restarts.";
    };

    monitor.enable = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Whether to enable Jaeger's Monitor tab (service performance monitoring): the
        spanmetrics connector derives request rate, error rate and latency from the
        spans, and a local Prometheus (`services.prometheus`, port
        {option}`services.prometheus.port`, default 9090 on 127.0.0.1) stores them.
      '';
    };
  };

  config = lib.mkMerge [
    # The span metrics for the Monitor tab, in the local Prometheus (monitoring.nix). The
    # conditions sit on the values, not around `services.prometheus`, so the module also
    # evaluates where services.* is free-form (nix-eval-check's stub).
    {
      services.prometheus = {
        enable = lib.mkIf monitor true;
        scrapeConfigs = lib.mkIf monitor [
          {
            job_name = "jaeger-spanmetrics";
            scrape_interval = "15s";
            static_configs = [ { targets = [ "127.0.0.1:${toString ports.spanMetrics}" ]; } ];
          }
        ];
      };
    }

    (lib.mkIf enabled {
      services.vikunja-sync.telemetry.otlpEndpoint = lib.mkDefault "http://${vsLib.hostPort (vsLib.connectHost jcfg.listenAddress) ports.otlpGrpc}";

      systemd.services.vikunja-sync-jaeger = {
        description = "Jaeger tracing for vikunja-sync (OTLP in, UI on port ${toString ports.ui})";
        wantedBy = [ "multi-user.target" ];
        after = [ "network.target" ] ++ lib.optional monitor "prometheus.service";
        restartTriggers = [ jaegerConfig ];
        serviceConfig = lib.mkMerge [
          {
            ExecStart = vsLib.execLine [
              (lib.getExe jcfg.package)
              "--config"
              jaegerConfig
            ];
            Restart = "on-failure";
            RestartSec = "5s";
          }
          (hardening.system { })
        ];
      };

      networking.firewall.allowedTCPPorts = lib.optionals jcfg.openFirewall [
        ports.otlpGrpc
        ports.otlpHttp
        ports.ui
      ];
    })
  ];
}
