#!/usr/bin/env bash
# Reproduces the bundled models of the built-in collection (models/builtin/) with our own commands and fixed seeds:
#
#   scripts/reproduce-bundled-weights.sh [OUT]          (default OUT: out/bundled-weights)
#
# writes OUT/nouns4k/ (the built-in collection), OUT/base.diffnft, OUT/reward.diffnft-reward and OUT/metrics.json, then
# prints their sizes and parameter counts next to the bundled files'. About 30 minutes on 2 cores (20 for the base
# model, about 8 for the reward model). models/builtin/README.md explains why the result follows the bundled files'
# recipe but is not bit-identical to them (they were trained with time budgets; this script uses the equivalent step
# budgets, which are reproducible).
#
# Environment:
#   DIFFNFT_REPRODUCE_BASE_STEPS    base-model steps (default 1859, the bundled model's); set small to try the script out
#   DIFFNFT_REPRODUCE_REWARD_STEPS  reward-model step budget (default 4300, the bundled model's)
#   DIFFNFT_THREADS                 torch threads (default: one per core; 1 on a machine busy with other work)
#   DIFFNFT_REPRODUCE_INSTALL=1     also copy the results over models/builtin/ (then update the table in its README.md)
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-out/bundled-weights}
base_steps=${DIFFNFT_REPRODUCE_BASE_STEPS:-1859}
reward_steps=${DIFFNFT_REPRODUCE_REWARD_STEPS:-4300}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

echo "== build the diffnft tool (Release)"
dotnet build src/DiffNft.Cli -c Release -v quiet -nologo
diffnft() { dotnet src/DiffNft.Cli/bin/Release/net10.0/diffnft.dll "$@"; }

mkdir -p "$out"
echo "== the built-in collection"
diffnft collection nouns --count 4000 --seed 1 --weights zipf:1.0 --parts bodies=6,accessories=10,heads=12,glasses=8 --out "$out/nouns4k"

echo "== base diffusion model: Small, $base_steps steps, seed 0 (the trainer's defaults otherwise)"
# A stale checkpoint of another run would be resumed (or refused); start afresh.
rm -f "$out/base.diffnft" "$out/base.diffnft.ckpt"
diffnft train-diffusion --collection "$out/nouns4k" --preset small --steps "$base_steps" --seed 0 --out "$out/base.diffnft"
rm -f "$out/base.diffnft.ckpt"

echo "== rarity reward model: Small ViT, at most $reward_steps steps, seed 0"
threads_args=()
if [[ -n "${DIFFNFT_THREADS:-}" ]]; then threads_args=(--threads "$DIFFNFT_THREADS"); fi
rm -rf "$out/reward"
diffnft train-reward --collection "$out/nouns4k" --preset small --steps "$reward_steps" --seed 0 "${threads_args[@]}" --out "$out/reward/"
mv "$out/reward/model.diffnft-reward" "$out/reward.diffnft-reward"
mv "$out/reward/metrics.json" "$out/metrics.json"
rm -rf "$out/reward" # what is left: the folder's hidden output marker and lock (docs/output-folders.md)

echo "== results (bundled files for comparison)"
for f in base.diffnft reward.diffnft-reward metrics.json; do
  printf '%-24s %12s bytes   bundled %12s bytes\n' "$f" "$(stat -c %s "$out/$f")" "$(stat -c %s "models/builtin/$f")"
done
if [[ "${DIFFNFT_REPRODUCE_INSTALL:-0}" == 1 ]]; then
  cp "$out/base.diffnft" "$out/reward.diffnft-reward" "$out/metrics.json" models/builtin/
  echo "copied into models/builtin/; update the sizes and SHA-256 sums in models/builtin/README.md:"
  sha256sum models/builtin/base.diffnft models/builtin/reward.diffnft-reward models/builtin/metrics.json
fi
