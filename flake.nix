{
  description = "vikunja-sync: event-driven two-way sync between Vikunja and Taskwarrior over NATS JetStream";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    crane.url = "github:ipetkov/crane";
  };

  outputs =
    {
      self,
      nixpkgs,
      crane,
    }:
    let
      inherit (nixpkgs) lib;

      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];

      # one name everywhere: crate = binary = package = unit
      binaries = [
        "webhook-ingress"
        "tw-watcher"
        "reconciler"
        "label-sync"
        "vikunja-sync"
        "vikunja-sync-hook"
        "vikunja-sync-demo" # the demo program `vikunja-sync demo` runs (links the simulator)
      ];

      workspaceVersion = (lib.importTOML ./Cargo.toml).workspace.package.version;

      perSystem =
        pkgs:
        let
          craneLib = crane.mkLib pkgs;

          # Cargo sources plus everything the tests read (the .proto files for the
          # generated-code freshness test, fixtures); not docs/, nixos-modules/ or
          # the VM tests, so editing those rebuilds nothing.
          src = lib.fileset.toSource {
            root = ./.;
            fileset = lib.fileset.unions [
              ./Cargo.toml
              ./Cargo.lock
              ./proto
              ./crates
              ./services
              ./integration-tests/harness
              ./integration-tests/vikunja-sim
              ./integration-tests/demo
              ./integration-tests/e2e
              # tool configuration, if the workspace has any
              (lib.fileset.maybeMissing ./.cargo)
              (lib.fileset.maybeMissing ./clippy.toml)
              (lib.fileset.maybeMissing ./.clippy.toml)
              (lib.fileset.maybeMissing ./rustfmt.toml)
              (lib.fileset.maybeMissing ./.rustfmt.toml)
            ];
          };

          commonArgs = {
            inherit src;
            pname = "vikunja-sync";
            version = workspaceVersion;
            strictDeps = true;
            # TLS is rustls + ring and protobuf code is checked in: no openssl, no protoc
            buildInputs = lib.optionals pkgs.stdenv.hostPlatform.isDarwin [ pkgs.libiconv ];
          };

          # the workspace's dependencies, built once and shared by every derivation below
          cargoArtifacts = craneLib.buildDepsOnly commonArgs;

          # every binary in one cargo build; `vikunja-sync demo` finds the demo program and
          # the hook next to itself, `up` the services; nats-server and task come from PATH
          workspace = craneLib.buildPackage (
            commonArgs
            // {
              inherit cargoArtifacts;
              cargoExtraArgs = "--locked " + lib.concatMapStringsSep " " (b: "-p ${b}") binaries;
              doCheck = false;
              nativeBuildInputs = [ pkgs.makeWrapper ];
              # The hook runs on every `task` command: linked statically (`cargo build-hook`) it
              # starts without the dynamic loader, ~0.3 ms of its ~1 ms. Only where glibc's static
              # archive exists, and kept dynamic if that does not build or run here.
              postBuild = lib.optionalString pkgs.stdenv.hostPlatform.isGnu ''
                cp target/release/vikunja-sync-hook vikunja-sync-hook.dynamic
                if cargo rustc --release --locked --offline -p vikunja-sync-hook --bin vikunja-sync-hook \
                     -- -C target-feature=+crt-static -L native=${pkgs.glibc.static}/lib \
                   && target/release/vikunja-sync-hook on-launch </dev/null; then
                  echo "vikunja-sync-hook: statically linked"
                else
                  echo "vikunja-sync-hook: static link failed; keeping the dynamic build"
                  cp vikunja-sync-hook.dynamic target/release/vikunja-sync-hook
                fi
              '';
              postInstall = ''
                wrapProgram $out/bin/vikunja-sync \
                  --suffix PATH : ${
                    lib.makeBinPath [
                      pkgs.nats-server
                      pkgs.taskwarrior3
                    ]
                  }
              '';
              meta = {
                description = "Two-way sync between Vikunja and Taskwarrior over NATS JetStream";
                license = lib.licenses.mit;
                mainProgram = "vikunja-sync";
              };
            }
          );

          # `nix run .#<binary>` / `nix build .#<binary>`: the binary of the one build
          binPackage =
            name:
            pkgs.runCommand name
              {
                meta = workspace.meta // {
                  mainProgram = name;
                };
              }
              ''
                mkdir -p $out/bin
                ln -s ${workspace}/bin/${name} $out/bin/${name}
              '';

          cargoChecks = {
            clippy = craneLib.cargoClippy (
              commonArgs
              // {
                inherit cargoArtifacts;
                cargoClippyExtraArgs = "--workspace --all-targets -- --deny warnings";
              }
            );

            fmt = craneLib.cargoFmt { inherit (commonArgs) src pname version; };

            # the cargo test suite against a real nats-server and Taskwarrior
            tests = craneLib.cargoTest (
              commonArgs
              // {
                inherit cargoArtifacts;
                cargoTestExtraArgs = "--workspace";
                nativeBuildInputs = [
                  pkgs.nats-server
                  pkgs.taskwarrior3
                ];
                NATS_SERVER_BIN = lib.getExe pkgs.nats-server;
                __darwinAllowLocalNetworking = true;
                preCheck = ''
                  export HOME=$(mktemp -d)
                '';
              }
            );
          };

          vmTest =
            file:
            pkgs.testers.runNixOSTest {
              imports = [ file ];
              defaults = {
                imports = [ self.nixosModules.default ];
                documentation.enable = lib.mkDefault false;
              };
            };

          # a NixOS configuration importing the module (evaluated, never built)
          nixosWithModule =
            modules:
            lib.nixosSystem {
              modules = [
                self.nixosModules.default
                {
                  nixpkgs.hostPlatform = pkgs.stdenv.hostPlatform.system;
                  boot.isContainer = true;
                  system.stateVersion = lib.trivial.release;
                }
              ]
              ++ modules;
            };

          # What the module makes of configurations no VM test can show (assertions, defaults,
          # two users, a laptop): evaluated only, so `nix flake check` runs it without KVM.
          moduleEval =
            let
              evalConfig =
                modules:
                let
                  # evaluated only: what the module decides does not depend on the package
                  e = nixosWithModule ([ { services.vikunja-sync.package = pkgs.hello; } ] ++ modules);
                in
                e
                // {
                  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) e.config.assertions);
                };
              cases = import ./integration-tests/nixos/eval-cases.nix { inherit lib evalConfig; };
              failed = lib.filter (c: !c.ok) cases;
            in
            if failed == [ ] then
              pkgs.runCommand "vikunja-sync-module-eval" { } ''
                echo "${toString (lib.length cases)} module evaluation cases hold" > $out
              ''
            else
              throw "module-eval: ${lib.concatMapStringsSep "; " (c: "${c.name}: ${c.detail}") failed}";

          # option docs render: every option has a type and a description
          optionDocs =
            let
              eval = nixosWithModule [ { services.vikunja-sync.enable = true; } ];
            in
            (pkgs.nixosOptionsDoc {
              options = {
                services.vikunja-sync = eval.options.services.vikunja-sync;
              };
              warningsAreErrors = true;
            }).optionsCommonMark;
        in
        {
          packages = lib.genAttrs binaries binPackage // {
            default = workspace;
          };

          checks =
            cargoChecks
            // {
              inherit workspace;
            }
            // lib.optionalAttrs pkgs.stdenv.hostPlatform.isLinux {
              option-docs = optionDocs;
              module-eval = moduleEval;
              # nix build .#checks.x86_64-linux.e2e (needs KVM)
              e2e = vmTest ./integration-tests/nixos/e2e.nix;
              module = vmTest ./integration-tests/nixos/module.nix;
            };

          devShell = craneLib.devShell {
            checks = {
              inherit (cargoChecks) clippy tests;
            };
            packages = [
              pkgs.rust-analyzer
              pkgs.nats-server
              pkgs.natscli
              pkgs.taskwarrior3
              pkgs.protobuf
            ]
            # Jaeger v2 is in nixpkgs since 2026 (NixOS/nixpkgs#512257)
            ++ lib.optional (pkgs ? jaeger) pkgs.jaeger;
            # scripts/test.sh runs the suite on both: `task` on PATH is 3.x, this one 2.6
            TASK2_BIN = "${pkgs.taskwarrior2}/bin/task";
          };
        };

      bySystem = lib.genAttrs systems (system: perSystem nixpkgs.legacyPackages.${system});
      forAllSystems = f: lib.mapAttrs (_: f) bySystem;
    in
    {
      packages = forAllSystems (s: s.packages);

      checks = forAllSystems (s: s.checks);

      devShells = forAllSystems (s: {
        default = s.devShell;
      });

      # nix run .#vikunja-sync -- demo   (nats-server and task are on the wrapper's PATH)
      apps = forAllSystems (
        s:
        let
          app = {
            type = "app";
            program = lib.getExe s.packages.default;
            meta.description = "vikunja-sync operator CLI (up, demo, status, reconcile, repair, adopt, hook)";
          };
        in
        {
          default = app;
          vikunja-sync = app;
        }
      );

      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nixos-modules ];
          services.vikunja-sync.package =
            lib.mkDefault
              self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };

      formatter = lib.genAttrs systems (system: nixpkgs.legacyPackages.${system}.nixfmt);
    };
}
