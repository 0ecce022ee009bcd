using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.DiffNft.Diffusion.Modules;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Diffusion;

/// <summary>
/// A trained text-to-image diffusion model: the network, its prompt tokenizer and its options. Generates images from
/// prompts, deterministically per seed, and saves to / loads from the package's model file.
/// </summary>
/// <remarks>
/// A latent model (<see cref="DiffusionModelOptions.Vae"/> set) also owns a frozen VAE: the UNet denoises its scaled
/// latents, and <see cref="ToImages"/> decodes them. Fine-tuning, LoRA and α-blending touch the UNet only.
/// </remarks>
internal sealed class DiffusionModel : DenoisingModel
{
    /// <summary>The model-file format name written into every archive.</summary>
    public const string FormatName = "diffnft.diffusion";

    /// <summary>The model-file format version this build writes and reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The archive entry with a latent model's VAE weights.</summary>
    internal const string VaeEntry = "vae.safetensors";

    /// <summary>Images the VAE decodes at once: its full-resolution activations dominate memory.</summary>
    private const int VaeBatch = 16;

    internal DiffusionModel(DiffusionModelOptions options, PromptTokenizer tokenizer, Device device)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        Schedule = options.CreateSchedule();
        Device = device;
        Network = new ConditionalUNet(options.UNet, tokenizer.VocabularySize, PromptTokenizer.PadId);
        Network.to(device);
        if (options.Vae is { } vae)
        {
            Vae = new AutoencoderKL(vae);
            Vae.to(device);
            Vae.eval();
            // Frozen: reward gradients pass through the decoder to the latents without accumulating in its weights.
            foreach (var p in Vae.parameters()) p.requires_grad_(false);
        }
    }

    /// <summary>The options the model was built with.</summary>
    public DiffusionModelOptions Options { get; }

    /// <summary>The prompt tokenizer (vocabulary from the training captions).</summary>
    public PromptTokenizer Tokenizer { get; }

    /// <inheritdoc/>
    public override NoiseSchedule Schedule { get; }

    /// <inheritdoc/>
    public override Device Device { get; }

    /// <inheritdoc/>
    public override PredictionType Prediction => Options.Prediction;

    /// <inheritdoc/>
    public override bool ClipPredictedSample => Vae is null;

    /// <inheritdoc/>
    public override long[] SampleShape => [Options.UNet.ImageChannels, Options.UNet.ImageSize, Options.UNet.ImageSize];

    /// <inheritdoc/>
    public override int ImageSize => Options.Vae?.SampleSize ?? Options.UNet.ImageSize;

    internal ConditionalUNet Network { get; }

    /// <summary>The frozen VAE of a latent model; null for a pixel model.</summary>
    internal AutoencoderKL? Vae { get; }

    /// <summary>Pixels for a pixel model; for a latent model the VAE's decoding of latents ÷ scaling factor, a slice at a time.</summary>
    internal override Tensor ToImages(Tensor samples) => Vae is null ? base.ToImages(samples) : Vae.DecodeScaled(samples, VaeBatch);

    /// <summary>
    /// What the UNet denoises for images ([B, 3, S, S] in [−1, 1]): the images themselves for a pixel model, the VAE
    /// posterior's means times the scaling factor for a latent one; differentiable in the images.
    /// </summary>
    internal Tensor ToSamples(Tensor images)
    {
        if (Vae is null) return images.alias();
        using var scope = NewDisposeScope();
        using var posterior = Vae.Encode(images);
        return (posterior.Mean * Vae.ScalingFactor).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    internal override nn.Module Denoiser => Network;

    /// <summary>Encodes prompts into an id tensor [B, MaxTokens] on the model's device.</summary>
    internal override Tensor EncodePrompts(IReadOnlyList<string> prompts) =>
        tensor(Tokenizer.EncodeBatch(prompts, Options.UNet.MaxTokens), new long[] { prompts.Count, Options.UNet.MaxTokens }, device: Device);

    /// <summary>
    /// The guided network output at (x_t, t): uncond + s·(cond − uncond), with the conditional and unconditional halves in
    /// one doubled batch. A scale of 1 runs the conditional branch alone.
    /// </summary>
    internal override Tensor GuidedOutput(Tensor xt, int t, Tensor ids, double guidance)
    {
        using var scope = NewDisposeScope();
        long b = xt.shape[0];
        if (guidance == 1.0)
            return Network.forward(xt, full(new long[] { b }, t, int64, Device), ids).MoveToOuterDisposeScope();
        var both = Network.forward(cat(new[] { xt, xt }, 0), full(new long[] { 2 * b }, t, int64, Device),
            cat(new[] { ids, zeros_like(ids) }, 0));
        var parts = both.chunk(2, 0);
        return (parts[1] + (parts[0] - parts[1]) * guidance).MoveToOuterDisposeScope();
    }

    /// <summary>A new model with the same options, vocabulary and weights.</summary>
    internal override DenoisingModel CloneForTraining() => Clone();

    /// <summary>A new model with the same options, vocabulary and weights, owned by the caller.</summary>
    internal DiffusionModel Clone()
    {
        var copy = new DiffusionModel(Options, Tokenizer, Device);
        CopyState(Network, copy.Network);
        if (Vae is not null) copy.CopyVaeFrom(Vae);
        return copy;
    }

    /// <summary>Copies a trained VAE's weights into this latent model's VAE (same architecture).</summary>
    internal void CopyVaeFrom(AutoencoderKL vae) =>
        CopyState(vae, Vae ?? throw new InvalidOperationException("This is a pixel model; it has no VAE."));

    /// <summary>Copies every tensor of <paramref name="from"/>'s state into <paramref name="to"/> (same architecture).</summary>
    private static void CopyState(nn.Module from, nn.Module to)
    {
        using var noGrad = no_grad();
        var dst = to.state_dict();
        foreach (var (name, value) in from.state_dict())
            dst[name].copy_(value);
    }

    /// <summary>
    /// A new model with the weights base + α·(tuned − base): a fine-tuning update scaled by α (0 is the base model, 1 the
    /// tuned one). With LoRA the update is the merged adapter, so this scales the adapter — the rarity–fidelity curve of
    /// one fine-tuning run, without retraining. Both models must have the same architecture and vocabulary.
    /// </summary>
    internal static DiffusionModel Blend(DiffusionModel baseModel, DiffusionModel tuned, double alpha)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(tuned);
        if (!double.IsFinite(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "α must be a finite number.");
        if (JsonSerializer.Serialize(baseModel.Options, JsonOptions) != JsonSerializer.Serialize(tuned.Options, JsonOptions)
            || !baseModel.Tokenizer.Vocabulary.SequenceEqual(tuned.Tokenizer.Vocabulary))
            throw new ArgumentException("The tuned model was not fine-tuned from this base model: their architectures or vocabularies differ.", nameof(tuned));
        var result = baseModel.Clone();
        using var noGrad = no_grad();
        var from = tuned.Network.state_dict();
        foreach (var (name, value) in result.Network.state_dict())
        {
            // Integer buffers (counters) are copied from the tuned model; weights are interpolated.
            if (!value.is_floating_point()) value.copy_(from[name]);
            else value.add_((from[name].to(value.device) - value) * alpha);
        }
        return result;
    }

    /// <summary>Saves the model to one archive file atomically.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ModelArchive.Write(path, ToEntries());
    }

    /// <summary>The entries of the model file (manifest and weights), for <see cref="Save"/> and saved pipelines.</summary>
    internal Dictionary<string, byte[]> ToEntries()
    {
        var entries = ModelFile.ToEntries(new Manifest(FormatName, FormatVersion, Options, Tokenizer.Vocabulary.ToArray()), JsonOptions, Network);
        if (Vae is not null) entries[VaeEntry] = ModelArchive.SaveTensors(Vae.state_dict());
        return entries;
    }

    /// <summary>
    /// Loads a model saved by <see cref="Save"/>, checking the format version, the options, the vocabulary and every
    /// tensor's shape against the architecture the options describe.
    /// </summary>
    public static DiffusionModel Load(string path, DiffNftDevice device = DiffNftDevice.Auto) =>
        FromEntries(ModelArchive.Read(path), path, device);

    /// <summary>Builds a model from the entries of a model file; <paramref name="path"/> names it in error messages.</summary>
    internal static DiffusionModel FromEntries(IReadOnlyDictionary<string, byte[]> entries, string path, DiffNftDevice device)
    {
        var manifest = ModelFile.ReadManifest<Manifest>(entries, path, FormatName, FormatVersion, "diffusion model", JsonOptions);
        if (manifest.Options is null || manifest.Vocabulary is null)
            throw new InvalidDataException($"Model file '{path}': the manifest lacks options or vocabulary.");
        PromptTokenizer tokenizer;
        try
        {
            manifest.Options.Validate();
            tokenizer = PromptTokenizer.FromVocabulary(manifest.Vocabulary);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException)
        {
            throw new InvalidDataException($"Model file '{path}': {ex.Message}", ex);
        }
        var model = new DiffusionModel(manifest.Options, tokenizer, TorchRuntime.Resolve(device));
        try
        {
            // Names, shapes and finiteness checked: a NaN or infinite weight would otherwise generate black images silently.
            ModelArchive.LoadInto(model.Network, entries, ModelFile.WeightsEntry, path);
            if (model.Vae is not null) ModelArchive.LoadInto(model.Vae, entries, VaeEntry, path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }

    /// <inheritdoc/>
    public override void Dispose()
    {
        Network.Dispose();
        Vae?.Dispose();
    }

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private sealed record Manifest(string Format, int Version, DiffusionModelOptions Options, string[] Vocabulary) : IModelManifest;
}
