#!/usr/bin/env bash
# Builds the plan executor with the machine's cc (libc only). Run by `pnpm build` and the setup.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p build
cc -O2 -Wall -Wextra -Werror -shared -fPIC -o build/libcorral.so plan.c executor.c child-paths.c spawn.c host.c userns.c -lutil -lpthread
