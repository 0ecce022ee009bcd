namespace DiffNft.Cli;

/// <summary>
/// Translates the library's messages for command-line users. The library names the options and properties a C# caller
/// sets (<c>NftGenerationEvaluatorOptions.SampleSize</c>); on the command line the same setting is a flag, so each known
/// option name is followed by its flag.
/// </summary>
public static class CliMessages
{
    // Option or property name as the library writes it → the flag that sets it.
    private static readonly (string Option, string Flag)[] s_flags =
    [
        ("NftGenerationEvaluatorOptions.SampleSize", "--n"),
        ("NftGenerationEvaluatorOptions.TraitDecoder", "--trait-classifier"),
        ("QuickstartOptions.FromScratch", "--from-scratch"),
        ("QuickstartOptions.Overwrite", "--overwrite"),
        ("QuickstartOptions.Budget", "--budget"),
        ("FineTuneTime", "--minutes-finetune"),
        ("QuickstartOptions.FidBudget", "--fid-budget"),
        ("ValidationEvery", "--validate-every"),
        ("QuickstartOptions.CollectionPath", "--collection"),
        ("QuickstartOptions.GenerationPrompt", "--prompt"),
    ];

    // A setting's bare name, as an argument error starts with it ("LearningRate = NaN: …", CliErrors.OneLine) → its flag.
    private static readonly (string Setting, string Flag)[] s_settings =
    [
        ("LearningRate", "--lr"), ("GuidanceScale", "--guidance"), ("BatchSize", "--batch"), ("TrainBatchSize", "--train-batch"),
        ("HoldoutFraction", "--holdout"), ("ValidationFraction", "--validation"), ("TimestepFraction", "--timestep-fraction"),
        ("EmaDecay", "--ema-decay"), ("MinSnrGamma", "--min-snr"), ("PromptPhraseDropout", "--phrase-dropout"),
        ("KlWeight", "--kl-weight"), ("ClipRange", "--clip-range"), ("LoraRank", "--lora-rank"), ("InnerEpochs", "--inner-epochs"),
        ("ImagesPerPrompt", "--images-per-prompt"), ("PromptsPerIteration", "--prompts-per-iteration"), ("SamplingSteps", "--steps"),
        ("MaxIterations", "--iterations"), ("MaxSteps", "--steps"), ("MaxTime", "--minutes"), ("CheckpointEvery", "--checkpoint-every"),
        ("SampleGridEvery", "--sample-every"), ("AdvantageStdFloor", "--advantage-floor"), ("CrowdingWeight", "--crowding-weight"),
        ("CrowdingWindow", "--crowding-window"), ("CrowdingBandwidth", "--crowding-bandwidth"), ("Epochs", "--epochs"), ("Width", "--width"), ("RareQuantile", "--rare-quantile"),
    ];

    /// <summary>Returns <paramref name="message"/> with the flag after every option name it mentions.</summary>
    public static string Translate(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var (setting, flag) in s_settings)
            if (message.StartsWith(setting + " = ", StringComparison.Ordinal) || message.StartsWith(setting + ":", StringComparison.Ordinal))
            {
                message = $"{setting} ({flag}){message[setting.Length..]}";
                break;
            }
        foreach (var (option, flag) in s_flags)
            message = message.Replace(option, $"{option} ({flag})", StringComparison.Ordinal);
        return message;
    }
}
