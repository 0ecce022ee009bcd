namespace Microsoft.ML.DiffNft.StableDiffusion.Loading;

/// <summary>What <see cref="StateDictLoader.LoadInto(TorchSharp.torch.nn.Module, ComponentWeights, StateDictLoadOptions?)"/> did.</summary>
/// <param name="Loaded">How many of the module's tensors were loaded from the files.</param>
/// <param name="BytesRead">How many bytes of tensor data were read.</param>
/// <param name="KeptOwn">Optional module tensors the files lacked; they keep the module's own values.</param>
/// <param name="Skipped">File tensors (file names) that were skipped: renamed to null, or optional and absent from the module.</param>
internal sealed record StateDictLoadResult(int Loaded, long BytesRead, IReadOnlyList<string> KeptOwn, IReadOnlyList<string> Skipped);
