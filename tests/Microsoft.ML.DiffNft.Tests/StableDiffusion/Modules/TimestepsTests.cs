using Microsoft.ML.DiffNft.StableDiffusion.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Modules;

public class TimestepsTests
{
    // The formula of diffusers' get_timestep_embedding, evaluated in double precision element by element.
    private static double[] Expected(double t, int dim, bool flip, double shift)
    {
        int half = dim / 2;
        var sines = new double[half];
        var cosines = new double[half];
        for (int i = 0; i < half; i++)
        {
            double freq = Math.Exp(-Math.Log(10000) * i / (half - shift));
            sines[i] = Math.Sin(t * freq);
            cosines[i] = Math.Cos(t * freq);
        }
        var row = flip ? cosines.Concat(sines) : sines.Concat(cosines);
        return (dim % 2 == 1 ? row.Append(0.0) : row).ToArray();
    }

    [Theory]
    [InlineData(32, true, 0)]
    [InlineData(32, false, 1)]
    [InlineData(320, true, 0)]
    [InlineData(7, true, 0)]
    public void MatchesTheFormulaForKnownTimesteps(int dim, bool flip, double shift)
    {
        double[] ts = [0, 1, 10, 500.5, 999];
        using var scope = NewDisposeScope();
        var emb = Timesteps.Embed(tensor(ts.Select(t => (float)t).ToArray()), dim, flip, shift);
        Assert.Equal(new long[] { ts.Length, dim }, emb.shape);
        Assert.Equal(ScalarType.Float32, emb.dtype);
        var actual = emb.data<float>().ToArray();
        for (int r = 0; r < ts.Length; r++)
        {
            var expected = Expected(ts[r], dim, flip, shift);
            for (int i = 0; i < dim; i++)
                // float32 arguments up to 999 carry ~6e-5 absolute rounding into sin/cos.
                Assert.True(Math.Abs(actual[r * dim + i] - expected[i]) < 3e-4, $"t={ts[r]} i={i}: {actual[r * dim + i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void IntegerAndFloatTimestepsGiveTheSameEmbedding()
    {
        using var scope = NewDisposeScope();
        var fromLong = Timesteps.Embed(tensor(new long[] { 3, 981 }), 64, true, 0);
        var fromDouble = Timesteps.Embed(tensor(new double[] { 3, 981 }), 64, true, 0);
        Assert.True(fromLong.eq(fromDouble).all().item<bool>());
    }

    [Fact]
    public void ANonVectorIsRejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Timesteps.Embed(tensor(new long[] { 1, 2, 3, 4 }).reshape(2, 2), 8, true, 0));
    }
}
