using Microsoft.ML.DiffNft.Evaluation;
using Microsoft.ML.DiffNft.Imaging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Microsoft.ML.DiffNft.Tests.Evaluation;

/// <summary>
/// The reference implementation of FID-ResNet18 features: the package's two ONNX graphs run by ONNX Runtime, one image
/// at a time (the graphs' batch dimension is fixed at 1), on the same resampled input as the TorchSharp extractor.
/// Used by the equivalence test and the feature benchmark.
/// </summary>
internal sealed class OnnxRuntimeResNet18 : IDisposable
{
    private readonly InferenceSession _preprocess;
    private readonly InferenceSession _network;

    public OnnxRuntimeResNet18(ResNet18ModelFiles files, int threads)
    {
        var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
        _preprocess = new InferenceSession(files.PreprocessPath, options);
        _network = new InferenceSession(files.NetworkPath, options);
    }

    public float[][] Extract(IReadOnlyList<RgbaImage> images)
    {
        const int size = ResNet18FeatureExtractor.InputSize;
        var result = new float[images.Count][];
        var planes = new float[3 * size * size];
        string preIn = _preprocess.InputMetadata.Keys.Single(), preOut = _preprocess.OutputMetadata.Keys.Single();
        string netIn = _network.InputMetadata.Keys.Single();
        for (int i = 0; i < images.Count; i++)
        {
            FeatureImageResampler.ToRgbPlanes(images[i], size, planes);
            var input = new DenseTensor<float>((float[])planes.Clone(), [1, 3, size, size]);
            using var prepared = _preprocess.Run([NamedOnnxValue.CreateFromTensor(preIn, input)]);
            var bgr = prepared.Single(v => v.Name == preOut).AsTensor<float>();
            using var features = _network.Run([NamedOnnxValue.CreateFromTensor(netIn, bgr)]);
            result[i] = features.Single().AsTensor<float>().ToArray();
        }
        return result;
    }

    public void Dispose()
    {
        _preprocess.Dispose();
        _network.Dispose();
    }
}
