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
        var dtype = ComputeType(options.Precision, device);
        var scheduler = folder.ReadSchedulerConfig();
        var schedule = Schedule(scheduler, Path.Combine(folder.ComponentFolder("scheduler"), "scheduler_config.json"));
        var tokenizer = ClipTokenizer.FromFolder(folder.TokenizerFolder());
        var unetConfig = UNet2DConditionConfig.FromJson(folder.ReadConfigJson("unet"), Path.Combine(folder.ComponentFolder("unet"), "config.json"));
        var vaeConfig = AutoencoderKLConfig.FromJson(folder.ReadConfigJson("vae"), Path.Combine(folder.ComponentFolder("vae"), "config.json"));
        var textConfig = ClipTextConfig.FromJson(folder.ReadConfigJson("text_encoder"), Path.Combine(folder.ComponentFolder("text_encoder"), "config.json"));
        return Assemble(unetConfig, vaeConfig, textConfig, device, dtype,
            (unet, vae, text) =>
            {
                StateDictLoader.LoadInto(unet, folder.FindWeights("unet", options.Variant), new StateDictLoadOptions());
                StateDictLoader.LoadInto(vae, folder.FindWeights("vae", options.Variant), new StateDictLoadOptions { MapLegacyVaeAttentionNames = true });
                StateDictLoader.LoadInto(text, folder.FindWeights("text_encoder", options.Variant),
                    new StateDictLoadOptions { Optional = ClipTextModel.IgnorableCheckpointTensors });
                return new StableDiffusionModel(tokenizer, text, unet, vae, schedule, scheduler.PredictionType, device, dtype,
                    options.NegativePrompt, scheduler.ClipSample) { VaeDecodeBatch = options.VaeDecodeBatch };
            });
    }

    /// <summary>The dtype of the networks' weights for a precision option: when unset, float32 on the CPU and bfloat16 on CUDA.</summary>
    internal static ScalarType ComputeType(StableDiffusionPrecision? precision, Device device) => precision switch
    {
        StableDiffusionPrecision.Float32 => ScalarType.Float32,
        StableDiffusionPrecision.BFloat16 => ScalarType.BFloat16,
        StableDiffusionPrecision.Float16 => ScalarType.Float16,
        _ => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
    };

    /// <summary>
    /// Builds the UNet, the VAE and the text encoder on <paramref name="device"/> in <paramref name="dtype"/> (evaluation
    /// mode) and hands them to <paramref name="create"/>, which fills their weights if it has any and makes the model;
    /// whatever fails, the networks built so far are disposed.
    /// </summary>
    internal static StableDiffusionModel Assemble(UNet2DConditionConfig unetConfig, AutoencoderKLConfig vaeConfig, ClipTextConfig textConfig,
        Device device, ScalarType dtype, Func<UNet2DConditionModel, AutoencoderKL, ClipTextModel, StableDiffusionModel> create)
    {
        var layers = new LayerFactory(device, dtype);
        UNet2DConditionModel? unet = null;
        AutoencoderKL? vae = null;
        ClipTextModel? text = null;
        try
        {
            unet = new UNet2DConditionModel(unetConfig, layers);
            vae = new AutoencoderKL(vaeConfig, layers);
            text = new ClipTextModel(textConfig);
            text.to(device, dtype);
            foreach (var m in new nn.Module[] { unet, vae, text }) m.eval();
            return create(unet, vae, text);
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
