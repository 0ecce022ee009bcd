using System.CommandLine;
using System.Globalization;
using Microsoft.ML.DiffNft.Cluster;

namespace DiffNft.Cli.Commands;

/// <summary>
/// <c>bench cluster</c>: the scaling estimate of docs/scale-out.md — seconds per PPO iteration and speed-up on 1 … 64
/// samplers for Stable Diffusion 1.5 at 512×512, simulated by <see cref="ClusterScaling"/> from per-step costs.
/// </summary>
internal static class ClusterBench
{
    // Measured with `diffnft bench sd --config sd15 --device cpu --resolution 256 --steps 2 --batch 1` (docs/stable-diffusion.md):
    // rollout 5.6 s for 2 guided steps, VAE decode 4.0 s, PPO update 20.5 s for 2 step-updates (1 policy-gradient step and
    // the excluded final step's KL). In units of one guided sampling step: decode 1.43, one step-update 3.66.
    private const double DecodeSteps = 4.0 / 2.8, StepUpdateSteps = 10.25 / 2.8;

    public static Command Create()
    {
        var stepMs = new Option<double>("--step-ms") { Description = "Seconds (in ms) of one guided UNet step of one 512×512 image on one GPU — an assumption until measured (docs/scale-out.md).", DefaultValueFactory = _ => 25 };
        var trajectories = new Option<int>("--trajectories") { Description = "Trajectories per PPO iteration.", DefaultValueFactory = _ => 64 };
        var chunk = new Option<int>("--chunk") { Description = "Trajectories per chunk (--sampling-batch).", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "DDIM steps per trajectory.", DefaultValueFactory = _ => 50 };
        var gbps = new Option<double>("--gbps") { Description = "Network bandwidth of the learner's machine in Gbit/s.", DefaultValueFactory = _ => 10 };
        var loraRank = new Option<int>("--lora-rank") { Description = "LoRA rank on the attention projections (snapshot size).", DefaultValueFactory = _ => 4 };
        var command = new Command("cluster", "Estimate PPO fine-tuning of Stable Diffusion 1.5 (512×512) on 1 … 64 GPUs with one learner, synchronous and with staleness 1, from per-step costs; prints seconds per iteration and speed-ups.")
        {
            stepMs, trajectories, chunk, steps, gbps, loraRank,
        };
        command.SetAction(parse => CliErrors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            double step = parse.GetValue(stepMs) / 1000;
            int s = parse.GetValue(steps), b = parse.GetValue(trajectories), c = parse.GetValue(chunk), rank = parse.GetValue(loraRank);
            if (step <= 0 || s < 2 || b < 1 || c < 1 || rank < 1 || parse.GetValue(gbps) <= 0) throw new ArgumentException("Every setting must be positive (at least 2 steps).");
            // PPO trains round(0.5·(S − 1)) policy-gradient steps plus the excluded final step's KL (FineTuneOptions defaults).
            int stepUpdates = Math.Max(1, (int)Math.Round(0.5 * (s - 1))) + 1;
            // LoRA on to_q/k/v/out of every attention of SD 1.5's 16 transformer blocks: r·(14·ΣC + 16·2·768), ΣC = 12,480.
            double loraParams = rank * (14.0 * 12_480 + 16 * 2 * 768);
            var cost = new IterationCost(b, c, c * (s + DecodeSteps) * step, stepUpdates * StepUpdateSteps * step,
                ChunkBytes: c * (s + 1) * 4.0 * 64 * 64 * 4, SnapshotBytes: loraParams * 4, BytesPerSecond: parse.GetValue(gbps) * 1e9 / 8, CallSeconds: 0.01);
            int optimizerSteps = (b + 15) / 16;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"SD 1.5 512×512, {b} trajectories of {s} steps per iteration in chunks of {c}; one guided step {step * 1000:F0} ms; sampling {(s + DecodeSteps) * step:F2} s and update {stepUpdates * StepUpdateSteps * step:F2} s per trajectory; " +
                $"{cost.ChunkBytes / c / 1e6:F2} MB per trajectory, {cost.SnapshotBytes / 1e6:F2} MB per snapshot ({loraParams:N0} LoRA parameters); {parse.GetValue(gbps):G} Gbit/s"));
            output.WriteLine($"{"GPUs",5}  {"sync s/iter",11}  {"speed-up",8}  {"stale-1 s/iter",14}  {"speed-up",8}  {"data-parallel update (not built)",32}   (speed-ups over 1 GPU, synchronous)");
            // Every speed-up is over one GPU running synchronously: the single-process run.
            double one = ClusterScaling.IterationSeconds(cost, 1, 0);
            foreach (int n in new[] { 1, 2, 4, 8, 16, 32, 64 })
            {
                double sync = ClusterScaling.IterationSeconds(cost, n, 0);
                // With staleness the learner updates while the samplers sample, so it needs a GPU of its own: n − 1 samplers.
                double stale = n == 1 ? sync : ClusterScaling.IterationSeconds(cost, n - 1, 1);
                double dp = ClusterScaling.DataParallelIterationSeconds(cost, n, optimizerSteps);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{n,5}  {sync,11:F1}  {one / sync,7:F2}×  {stale,14:F1}  {one / stale,7:F2}×  {dp,20:F1} s, {one / dp,6:F2}×"));
            }
            return 0;
        }));
        return command;
    }
}
