using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Loading;

/// <summary>Writes small diffusers pipeline folders for the loading tests: the layout save_pretrained produces.</summary>
internal static class PipelineFolderBuilder
{
    /// <summary>A Stable Diffusion 1.5 model_index.json, as published (the safety checker saved as [null, null]).</summary>
    public const string Sd15ModelIndex = """
        {
          "_class_name": "StableDiffusionPipeline",
          "_diffusers_version": "0.6.0",
          "feature_extractor": ["transformers", "CLIPImageProcessor"],
          "requires_safety_checker": true,
          "safety_checker": [null, null],
          "scheduler": ["diffusers", "PNDMScheduler"],
          "text_encoder": ["transformers", "CLIPTextModel"],
          "tokenizer": ["transformers", "CLIPTokenizer"],
          "unet": ["diffusers", "UNet2DConditionModel"],
          "vae": ["diffusers", "AutoencoderKL"]
        }
        """;

    /// <summary>Stable Diffusion 1.5's scheduler_config.json, as published.</summary>
    public const string Sd15Scheduler = """
        {
          "_class_name": "PNDMScheduler",
          "_diffusers_version": "0.6.0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "num_train_timesteps": 1000,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "trained_betas": null,
          "clip_sample": false
        }
        """;

    /// <summary>
    /// A pipeline folder with model_index.json, a scheduler, a tokenizer folder and unet/vae/text_encoder folders with
    /// a config.json each; each component's weights are the state dict of a filled <see cref="TinyNet"/>.
    /// </summary>
    public static string Write(string root, bool weights = true)
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, DiffusersFolder.ModelIndexFile), Sd15ModelIndex);
        WriteText(root, "scheduler", "scheduler_config.json", Sd15Scheduler);
        WriteText(root, "tokenizer", "vocab.json", "{}");
        foreach (var (component, stem) in new[] { ("unet", "diffusion_pytorch_model"), ("vae", "diffusion_pytorch_model"), ("text_encoder", "model") })
        {
            WriteText(root, component, "config.json", $$"""{"_class_name": "{{component}}", "sample_size": 32}""");
            if (weights) WriteWeights(Path.Combine(root, component, stem + ".safetensors"), offset: 0);
        }
        return root;
    }

    /// <summary>Writes a filled <see cref="TinyNet"/>'s state dict (values shifted by <paramref name="offset"/>).</summary>
    public static void WriteWeights(string path, double offset, SafeTensorsDType dtype = SafeTensorsDType.F32)
    {
        using var net = new TinyNet().Fill(offset);
        SafeTensorsWriter.Write(path, net.state_dict(), dtype);
    }

    /// <summary>Splits a filled <see cref="TinyNet"/>'s state dict over two shards with an index, as save_pretrained shards.</summary>
    public static void WriteSharded(string folder, string indexName, string shardPrefix, double offset)
    {
        using var scope = NewDisposeScope();
        using var net = new TinyNet().Fill(offset);
        var all = net.state_dict().ToList();
        var shards = new[] { all.Take(4).ToList(), all.Skip(4).ToList() };
        var map = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            string shard = $"{shardPrefix}-0000{i + 1}-of-00002.safetensors";
            SafeTensorsWriter.Write(Path.Combine(folder, shard), shards[i]);
            map.AddRange(shards[i].Select(kv => $"\"{kv.Key}\": \"{shard}\""));
        }
        File.WriteAllText(Path.Combine(folder, indexName), $"{{\"metadata\": {{\"total_size\": 1}}, \"weight_map\": {{{string.Join(", ", map)}}}}}");
    }

    private static void WriteText(string root, string component, string file, string text)
    {
        Directory.CreateDirectory(Path.Combine(root, component));
        File.WriteAllText(Path.Combine(root, component, file), text);
    }
}
