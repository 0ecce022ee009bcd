using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.Torch;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.Diffusion;

public class DdimStepTests
{
    public DdimStepTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void LogProbMatchesFloat64Computation()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(11);
        var x = randn(new long[] { 3, 2, 4, 4 }, generator: gen);
        var mu = randn(new long[] { 3, 2, 4, 4 }, generator: gen);
        double sigma = 0.37;
        var got = DdimStep.GaussianLogProb(x, mu, sigma).data<float>().ToArray();
        var xs = x.data<float>().ToArray();
        var ms = mu.data<float>().ToArray();
        int per = 2 * 4 * 4;
        for (int b = 0; b < 3; b++)
        {
            double sum = 0;
            for (int i = 0; i < per; i++)
            {
                double d = xs[b * per + i] - (double)ms[b * per + i];
                sum += -d * d / (2 * sigma * sigma) - Math.Log(sigma) - 0.5 * Math.Log(2 * Math.PI);
            }
            Assert.Equal(sum / per, got[b], 5);
        }
    }

    [Fact]
    public void SigmaMatchesTheDdimFormula()
    {
        var s = new NoiseSchedule();
        double a = s.AlphasCumprod[500], ap = s.AlphasCumprod[450];
        double expected = Math.Sqrt((1 - ap) / (1 - a)) * Math.Sqrt(1 - a / ap);
        Assert.Equal(expected, DdimStep.Sigma(s, 500, 450, 1.0), 14);
        Assert.Equal(0.0, DdimStep.Sigma(s, 500, 450, 0.0));
    }

    [Fact]
    public void RescoringAStoredTransitionGivesRatioOne()
    {
        using var scope = NewDisposeScope();
        var s = new NoiseSchedule();
        var gen = new Generator(5);
        var xt = randn(new long[] { 4, 3, 8, 8 }, generator: gen);
        var output = randn(new long[] { 4, 3, 8, 8 }, generator: gen) * 0.5;
        var first = DdimStep.Step(s, output, xt, 699, 649, 1.0, PredictionType.V, randn(new long[] { 4, 3, 8, 8 }, generator: gen));
        var again = DdimStep.Step(s, output, xt, 699, 649, 1.0, PredictionType.V, prevSample: first.Sample);
        var ratio = (again.LogProb! - first.LogProb!).exp().data<float>().ToArray();
        Assert.All(ratio, r => Assert.InRange(r, 1 - 1e-6, 1 + 1e-6));
    }

    [Fact]
    public void EtaZeroIsDeterministicAndEqualsTheMean()
    {
        using var scope = NewDisposeScope();
        var s = new NoiseSchedule();
        var gen = new Generator(9);
        var xt = randn(new long[] { 2, 3, 8, 8 }, generator: gen);
        var output = randn(new long[] { 2, 3, 8, 8 }, generator: gen);
        var a = DdimStep.Step(s, output, xt, 999, 949, 0.0, PredictionType.Epsilon, randn(2, 3, 8, 8));
        var b = DdimStep.Step(s, output, xt, 999, 949, 0.0, PredictionType.Epsilon, randn(2, 3, 8, 8));
        Assert.Null(a.LogProb);
        Assert.Equal(a.Sample.data<float>().ToArray(), b.Sample.data<float>().ToArray());
        Assert.Equal(a.Mean.data<float>().ToArray(), a.Sample.data<float>().ToArray());
    }

    [Fact]
    public void VAndEpsilonParameterisationsAgreeOnTheSameTruth()
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        var x0 = rand(new long[] { 2, 3, 4, 4 }, generator: gen) * 1.6 - 0.8;
        var eps = randn(new long[] { 2, 3, 4, 4 }, generator: gen);
        double a = 0.3;
        var xt = x0 * Math.Sqrt(a) + eps * Math.Sqrt(1 - a);
        var v = eps * Math.Sqrt(a) - x0 * Math.Sqrt(1 - a);
        var (e1, x1) = DdimStep.Interpret(v, xt, a, PredictionType.V, clipX0: false);
        var (e2, x2) = DdimStep.Interpret(eps, xt, a, PredictionType.Epsilon, clipX0: false);
        Assert.True(allclose(x1, x0, 1e-5, 1e-5));
        Assert.True(allclose(x2, x0, 1e-5, 1e-5));
        Assert.True(allclose(e1, eps, 1e-5, 1e-5));
        Assert.True(allclose(e2, eps, 1e-5, 1e-5));
    }

    [Fact]
    public void KlOfIdenticalMeansIsZeroAndMatchesFormula()
    {
        using var scope = NewDisposeScope();
        var a = ones(1, 2, 2, 2);
        var b = zeros(1, 2, 2, 2);
        Assert.Equal(0f, DdimStep.GaussianKl(a, a, 0.5).item<float>());
        Assert.Equal(1.0 / (2 * 0.25), DdimStep.GaussianKl(a, b, 0.5).item<float>(), 5);
    }
}
