using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.StableDiffusion.Clip;
using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.StableDiffusion;

/// <summary>
/// Builds a <see cref="StableDiffusionModel"/> from a diffusers pipeline folder: every component's config is parsed and
/// checked, every module is built on its final device and dtype, and every weight is validated (names, shapes, dtypes,
/// finiteness) before it is copied in. Nothing in the folder is executed.
/// </summary>
internal static class StableDiffusionLoader
{
    /// <summary>True when <paramref name="path"/> is a folder with a <c>model_index.json</c> (a diffusers pipeline).</summary>
    public static bool IsDiffusersFolder(string path) =>
        Directory.Exists(path) && File.Exists(Path.Combine(path, DiffusersFolder.ModelIndexFile));

    /// <summary>Loads the pipeline folder <paramref name="path"/>.</summary>
    public static StableDiffusionModel Load(string path, StableDiffusionLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new StableDiffusionLoadOptions();
        if (options.VaeDecodeBatch < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.VaeDecodeBatch, "StableDiffusionLoadOptions.VaeDecodeBatch must be at least 1.");
        TorchRuntime.EnsureLoaded();
        var folder = DiffusersFolder.Open(path);
        var device = TorchRuntime.Resolve(options.Device);
        var dtype = options.Precision switch
        {
            StableDiffusionPrecision.Float32 => ScalarType.Float32,
            StableDiffusionPrecision.BFloat16 => ScalarType.BFloat16,
            StableDiffusionPrecision.Float16 => ScalarType.Float16,
            _ => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
        };
        var scheduler = folder.ReadSchedulerConfig();
        var schedule = Schedule(scheduler, Path.Combine(folder.ComponentFolder("scheduler"), "scheduler_config.json"));
        var tokenizer = ClipTokenizer.FromFolder(folder.TokenizerFolder());
        var unetConfig = UNet2DConditionConfig.FromJson(folder.ReadConfigJson("unet"), Path.Combine(folder.ComponentFolder("unet"), "config.json"));
        var vaeConfig = AutoencoderKLConfig.FromJson(folder.ReadConfigJson("vae"), Path.Combine(folder.ComponentFolder("vae"), "config.json"));
        var textConfig = ClipTextConfig.FromJson(folder.ReadConfigJson("text_encoder"), Path.Combine(folder.ComponentFolder("text_encoder"), "config.json"));
        var layers = new LayerFactory(device, dtype);
        UNet2DConditionModel? unet = null;
        AutoencoderKL? vae = null;
        ClipTextModel? text = null;
        try
        {
            unet = new UNet2DConditionModel(unetConfig, layers);
            StateDictLoader.LoadInto(unet, folder.FindWeights("unet", options.Variant), new StateDictLoadOptions());
            vae = new AutoencoderKL(vaeConfig, layers);
            StateDictLoader.LoadInto(vae, folder.FindWeights("vae", options.Variant), new StateDictLoadOptions { MapLegacyVaeAttentionNames = true });
            text = new ClipTextModel(textConfig);
            text.to(device, dtype);
            StateDictLoader.LoadInto(text, folder.FindWeights("text_encoder", options.Variant),
                new StateDictLoadOptions { Optional = ClipTextModel.IgnorableCheckpointTensors });
            foreach (var m in new nn.Module[] { unet, vae, text }) m.eval();
            return new StableDiffusionModel(tokenizer, text, unet, vae, schedule, scheduler.PredictionType, device, dtype,
                options.NegativePrompt, scheduler.ClipSample) { VaeDecodeBatch = options.VaeDecodeBatch };
        }
        catch
        {
            unet?.Dispose();
            vae?.Dispose();
            text?.Dispose();
            throw;
        }
    }

    /// <summary>The package's noise schedule for a diffusers scheduler config, or a clear error for what it cannot express.</summary>
    internal static NoiseSchedule Schedule(SchedulerConfig c, string file)
    {
        if (c.SetAlphaToOne)
            throw new NotSupportedException($"'{file}': set_alpha_to_one true (the last DDIM step to ᾱ = 1) is not supported; Stable Diffusion's configs set it false.");
        if (c.RescaleBetasZeroSnr)
            throw new NotSupportedException($"'{file}': rescale_betas_zero_snr true is not supported.");
        if (c.ClipSample && c.ClipSampleRange != 1.0)
            throw new NotSupportedException($"'{file}': clip_sample_range {c.ClipSampleRange} is not supported (only 1).");
        var kind = c.BetaSchedule switch
        {
            DiffusersBetaSchedule.Linear => NoiseScheduleKind.Linear,
            DiffusersBetaSchedule.ScaledLinear => NoiseScheduleKind.ScaledLinear,
            _ => NoiseScheduleKind.Cosine,
        };
        var spacing = c.TimestepSpacing switch
        {
            DiffusersTimestepSpacing.Leading => TimestepSpacing.Leading,
            DiffusersTimestepSpacing.Trailing => TimestepSpacing.Trailing,
            _ => throw new NotSupportedException($"'{file}': timestep_spacing \"linspace\" is not supported; use \"leading\" or \"trailing\"."),
        };
        return new NoiseSchedule(kind, c.NumTrainTimesteps, c.BetaStart, c.BetaEnd, spacing,
            spacing == TimestepSpacing.Leading ? c.StepsOffset : 0);
    }
}
