using System.Globalization;
using System.Text.Json;
using Microsoft.ML.DiffNft.Diffusion;

namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>diffusers' <c>beta_schedule</c>: how β runs over the training timesteps.</summary>
internal enum DiffusersBetaSchedule
{
    /// <summary><c>linear</c>: β linear from beta_start to beta_end.</summary>
    Linear,
    /// <summary><c>scaled_linear</c>: √β linear from √beta_start to √beta_end, then squared (Stable Diffusion's schedule).</summary>
    ScaledLinear,
    /// <summary><c>squaredcos_cap_v2</c>: the cosine schedule of Nichol and Dhariwal, β capped at 0.999.</summary>
    SquaredCosCapV2,
}

/// <summary>diffusers' <c>timestep_spacing</c>: which training timesteps an N-step sampler visits.</summary>
internal enum DiffusersTimestepSpacing
{
    /// <summary><c>leading</c>: 0, k, 2k, … (k = T / N), plus steps_offset.</summary>
    Leading,
    /// <summary><c>trailing</c>: T, T − k, … rounded, minus one.</summary>
    Trailing,
    /// <summary><c>linspace</c>: N evenly spaced points from 0 to T − 1, rounded.</summary>
    Linspace,
}

/// <summary>
/// A pipeline's <c>scheduler/scheduler_config.json</c>: the noise schedule the model was trained with and how its
/// sampler spaces timesteps. The pipeline's own scheduler class (often PNDM) does not matter — the package samples with
/// DDIM — so keys the file leaves out take DDIMScheduler's defaults, exactly as diffusers'
/// <c>DDIMScheduler.from_config</c> fills them. Keys a DDIM sampler does not use are ignored; a value the package does not
/// support is an error naming the key, the value and the file.
/// </summary>
internal sealed record SchedulerConfig
{
    /// <summary>The scheduler class the pipeline was saved with (<c>_class_name</c>), for information.</summary>
    public string ClassName { get; init; } = "DDIMScheduler";

    /// <summary><c>num_train_timesteps</c>: T.</summary>
    public int NumTrainTimesteps { get; init; } = 1000;

    /// <summary><c>beta_start</c>.</summary>
    public double BetaStart { get; init; } = 0.0001;

    /// <summary><c>beta_end</c>.</summary>
    public double BetaEnd { get; init; } = 0.02;

    /// <summary><c>beta_schedule</c>.</summary>
    public DiffusersBetaSchedule BetaSchedule { get; init; } = DiffusersBetaSchedule.Linear;

    /// <summary><c>prediction_type</c>: epsilon or v_prediction.</summary>
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary><c>clip_sample</c>: clip the predicted x₀ to ±<see cref="ClipSampleRange"/> (off for Stable Diffusion's latents).</summary>
    public bool ClipSample { get; init; } = true;

    /// <summary><c>clip_sample_range</c>.</summary>
    public double ClipSampleRange { get; init; } = 1.0;

    /// <summary><c>set_alpha_to_one</c>: whether ᾱ before the first step is 1 (else ᾱ₀).</summary>
    public bool SetAlphaToOne { get; init; } = true;

    /// <summary><c>steps_offset</c>: added to every timestep of the leading spacing (1 for Stable Diffusion).</summary>
    public int StepsOffset { get; init; }

    /// <summary><c>timestep_spacing</c>.</summary>
    public DiffusersTimestepSpacing TimestepSpacing { get; init; } = DiffusersTimestepSpacing.Leading;

    /// <summary><c>rescale_betas_zero_snr</c>: rescale the schedule to zero terminal SNR.</summary>
    public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>Reads and checks a scheduler_config.json file.</summary>
    /// <param name="path">The file.</param>
    public static SchedulerConfig Read(string path)
    {
        using var doc = JsonFile.ReadObject(path, "the pipeline's scheduler configuration");
        return Parse(doc.RootElement, Path.GetFullPath(path));
    }

    /// <summary>Reads the configuration from a parsed JSON object; <paramref name="file"/> names it in errors.</summary>
    /// <param name="root">The JSON object.</param>
    /// <param name="file">The file, for messages.</param>
    public static SchedulerConfig Parse(JsonElement root, string file)
    {
        var d = new SchedulerConfig();
        var config = new SchedulerConfig
        {
            ClassName = JsonFile.GetString(root, "_class_name", file, d.ClassName)!,
            NumTrainTimesteps = JsonFile.GetInt(root, "num_train_timesteps", file, d.NumTrainTimesteps),
            BetaStart = JsonFile.GetDouble(root, "beta_start", file, d.BetaStart),
            BetaEnd = JsonFile.GetDouble(root, "beta_end", file, d.BetaEnd),
            BetaSchedule = Choice(root, "beta_schedule", file, d.BetaSchedule, new()
            {
                ["linear"] = DiffusersBetaSchedule.Linear,
                ["scaled_linear"] = DiffusersBetaSchedule.ScaledLinear,
                ["squaredcos_cap_v2"] = DiffusersBetaSchedule.SquaredCosCapV2,
            }),
            PredictionType = Choice(root, "prediction_type", file, d.PredictionType, new()
            {
                ["epsilon"] = PredictionType.Epsilon,
                ["v_prediction"] = PredictionType.V,
            }),
            ClipSample = JsonFile.GetBool(root, "clip_sample", file, d.ClipSample),
            ClipSampleRange = JsonFile.GetDouble(root, "clip_sample_range", file, d.ClipSampleRange),
            SetAlphaToOne = JsonFile.GetBool(root, "set_alpha_to_one", file, d.SetAlphaToOne),
            StepsOffset = JsonFile.GetInt(root, "steps_offset", file, d.StepsOffset),
            TimestepSpacing = Choice(root, "timestep_spacing", file, d.TimestepSpacing, new()
            {
                ["leading"] = DiffusersTimestepSpacing.Leading,
                ["trailing"] = DiffusersTimestepSpacing.Trailing,
                ["linspace"] = DiffusersTimestepSpacing.Linspace,
            }),
            RescaleBetasZeroSnr = JsonFile.GetBool(root, "rescale_betas_zero_snr", file, d.RescaleBetasZeroSnr),
        };
        // Options that change what the sampler computes and that the package does not implement: refuse, never ignore.
        if (root.TryGetProperty("trained_betas", out var betas) && betas.ValueKind != JsonValueKind.Null)
            throw new InvalidDataException($"'{file}': 'trained_betas' = {JsonFile.Show(betas)} is not supported; only the named beta schedules are (linear, scaled_linear, squaredcos_cap_v2).");
        if (JsonFile.GetBool(root, "thresholding", file, false))
            throw new InvalidDataException($"'{file}': 'thresholding' = true (dynamic thresholding) is not supported.");
        Check(config.NumTrainTimesteps >= 2, file, "num_train_timesteps", config.NumTrainTimesteps, "at least 2");
        Check(config.BetaStart > 0 && config.BetaStart < 1, file, "beta_start", config.BetaStart, "in (0, 1)");
        Check(config.BetaEnd > 0 && config.BetaEnd < 1, file, "beta_end", config.BetaEnd, "in (0, 1)");
        Check(config.StepsOffset >= 0 && config.StepsOffset < config.NumTrainTimesteps, file, "steps_offset", config.StepsOffset, "in [0, num_train_timesteps)");
        Check(config.ClipSampleRange > 0, file, "clip_sample_range", config.ClipSampleRange, "positive");
        return config;
    }

    private static T Choice<T>(JsonElement root, string key, string file, T fallback, Dictionary<string, T> choices)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        if (v.ValueKind == JsonValueKind.String && choices.TryGetValue(v.GetString()!, out var value)) return value;
        throw new InvalidDataException($"'{file}': '{key}' = {JsonFile.Show(v)} is not supported; expected one of {string.Join(", ", choices.Keys)}.");
    }

    private static void Check(bool ok, string file, string key, object value, string expected)
    {
        if (!ok) throw new InvalidDataException($"'{file}': '{key}' = {Convert.ToString(value, CultureInfo.InvariantCulture)} must be {expected}.");
    }
}
