using System.CommandLine;
using Microsoft.ML.DiffNft.FineTuning;
using Microsoft.ML.DiffNft.Reward;

namespace DiffNft.Cli.Commands;

/// <summary>
/// The fine-tuning options that <c>diffnft finetune</c> and <c>diffnft sweep</c> share: their names, types and defaults
/// (taken from <see cref="FineTuneOptions"/>, so they cannot drift from the library's), the check of <c>--minutes</c>, and
/// the <see cref="FineTuneOptions"/> they make. Each command lists them in its own order and gives its own help texts
/// (<see cref="FineTuneCliHelp"/>).
/// </summary>
internal sealed class FineTuneCliOptions
{
    /// <summary>The library's fine-tuning defaults.</summary>
    private static readonly FineTuneOptions Defaults = new();

    public FineTuneCliOptions(FineTuneCliHelp help)
    {
        BaseModel = new("--base") { Description = "Diffusion model file to fine-tune (from train-diffusion).", Required = true };
        Reward = new("--reward") { Description = help.Reward, Required = true };
        RarityOutput = new("--rarity-output") { Description = help.RarityOutput, DefaultValueFactory = _ => RarityRewardKind.ZScore };
        ComponentScaling = new("--component-scaling") { Description = help.ComponentScaling, DefaultValueFactory = _ => Defaults.ComponentScaling };
        KlWeight = new("--kl-weight") { Description = help.KlWeight, DefaultValueFactory = _ => Defaults.KlWeight };
        Iterations = new("--iterations") { Description = help.Iterations };
        Minutes = new("--minutes") { Description = help.Minutes };
        LoraRank = new("--lora-rank") { Description = "LoRA rank; 0 fine-tunes every weight.", DefaultValueFactory = _ => Defaults.LoraRank };
        PromptsPerIteration = new("--prompts-per-iteration") { Description = help.PromptsPerIteration, DefaultValueFactory = _ => Defaults.PromptsPerIteration };
        ImagesPerPrompt = new("--images-per-prompt") { Description = help.ImagesPerPrompt, DefaultValueFactory = _ => Defaults.ImagesPerPrompt };
        Steps = new("--steps") { Description = help.Steps, DefaultValueFactory = _ => Defaults.SamplingSteps };
        Guidance = new("--guidance") { Description = help.Guidance, DefaultValueFactory = _ => Defaults.GuidanceScale };
        LearningRate = new("--lr") { Description = help.LearningRate, DefaultValueFactory = _ => Defaults.LearningRate };
        Seed = new("--seed") { Description = help.Seed, DefaultValueFactory = _ => 0 };
        AdvantageFloor = new("--advantage-floor") { Description = "PPO: advantages divide by max(σ, this × σ₀), σ₀ the first iteration's reward spread, so a converging batch is not pushed harder (0: σ alone, as DDPO, the default).", DefaultValueFactory = _ => Defaults.AdvantageStdFloor };
        CrowdingWeight = new("--crowding-weight") { Description = "PPO: weight (in units of σ₀) of the crowding penalty, log(1 + recent samples close to the image in the reward's embedding), so copies of one image lower each other's reward (0: off, the default; it raised the FID on the built-in collection).", DefaultValueFactory = _ => Defaults.CrowdingWeight };
        CrowdingWindow = new("--crowding-window") { Description = "PPO: iterations of samples the crowding penalty remembers.", DefaultValueFactory = _ => Defaults.CrowdingWindow };
        CrowdingBandwidth = new("--crowding-bandwidth") { Description = "PPO: crowding kernel bandwidth as a share of the first batch's median nearest-neighbour distance.", DefaultValueFactory = _ => Defaults.CrowdingBandwidth };
    }

    public Option<string> BaseModel { get; }
    public Option<string> Reward { get; }
    public Option<RarityRewardKind> RarityOutput { get; }
    public Option<RewardComponentScaling> ComponentScaling { get; }
    public Option<double> KlWeight { get; }
    public Option<int?> Iterations { get; }
    public Option<double?> Minutes { get; }
    public Option<int> LoraRank { get; }
    public Option<int> PromptsPerIteration { get; }
    public Option<int> ImagesPerPrompt { get; }
    public Option<int> Steps { get; }
    public Option<double> Guidance { get; }
    public Option<double> LearningRate { get; }
    public Option<int> Seed { get; }
    public Option<double> AdvantageFloor { get; }
    public Option<double> CrowdingWeight { get; }
    public Option<int> CrowdingWindow { get; }
    public Option<double> CrowdingBandwidth { get; }

    /// <summary>The options that guard against collapse, in the order the commands list them.</summary>
    public IEnumerable<Option> CollapseGuards => [AdvantageFloor, CrowdingWeight, CrowdingWindow, CrowdingBandwidth];

    /// <summary>How the rarity reward is loaded (<c>--rarity-output</c>).</summary>
    public RewardLoadOptions RewardLoadOptions(ParseResult parse) => new() { RarityOutput = parse.GetValue(RarityOutput) };

    /// <summary>
    /// The <see cref="FineTuneOptions"/> of these options (the command sets the rest with <c>with</c>). The budget is
    /// <c>--iterations</c>, else <paramref name="defaultIterations"/> when <c>--minutes</c> is not given (unlimited when it
    /// is), and <c>--minutes</c>, which must be positive.
    /// </summary>
    public FineTuneOptions ToOptions(ParseResult parse, int defaultIterations)
    {
        double? mins = parse.GetValue(Minutes);
        return new FineTuneOptions
        {
            MaxIterations = parse.GetValue(Iterations) ?? (mins is null ? defaultIterations : int.MaxValue),
            MaxTime = MinutesBudget.ToTimeSpan(mins),
            PromptsPerIteration = parse.GetValue(PromptsPerIteration),
            ImagesPerPrompt = parse.GetValue(ImagesPerPrompt),
            SamplingSteps = parse.GetValue(Steps),
            GuidanceScale = parse.GetValue(Guidance),
            LearningRate = parse.GetValue(LearningRate),
            ComponentScaling = parse.GetValue(ComponentScaling),
            KlWeight = parse.GetValue(KlWeight),
            LoraRank = parse.GetValue(LoraRank),
            Seed = parse.GetValue(Seed),
            AdvantageStdFloor = parse.GetValue(AdvantageFloor),
            CrowdingWeight = parse.GetValue(CrowdingWeight),
            CrowdingWindow = parse.GetValue(CrowdingWindow),
            CrowdingBandwidth = parse.GetValue(CrowdingBandwidth),
        };
    }
}

/// <summary>
/// The help texts of the shared fine-tuning options that differ between commands; the defaults are <c>finetune</c>'s, and
/// <c>sweep</c> words them per trial.
/// </summary>
internal sealed record FineTuneCliHelp
{
    public string Reward { get; init; } = "Rarity reward: a reward model file, or builtin:NAME (builtin:fidelity needs no file).";
    public string RarityOutput { get; init; } = "Which output of the rarity model is the reward: zscore (the standardised predicted score), rarelogit or rarelogprobability.";
    public string ComponentScaling { get; init; } = "standardized: each reward component is standardised over the batch before weighting, so the weights trade the objectives off whatever their units; raw: Σ w·R as scored.";
    public string KlWeight { get; init; } = "β of the exact per-step KL to the base model (the starting β with --kl-target).";
    public string Iterations { get; init; } = "Iteration budget (default 100 when --minutes is not given).";
    public string Minutes { get; init; } = "Wall-time budget in minutes.";
    public string PromptsPerIteration { get; init; } = "Prompts sampled per iteration.";
    public string ImagesPerPrompt { get; init; } = "Images per prompt per iteration (K).";
    public string Steps { get; init; } = "DDIM steps per trajectory.";
    public string Guidance { get; init; } = "Classifier-free guidance scale of the policy.";
    public string LearningRate { get; init; } = "AdamW learning rate (1e-2 for LoRA; about 1e-4 for a full fine-tune).";
    public string Seed { get; init; } = "Seed of all random choices.";
}
