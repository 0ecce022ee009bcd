using Microsoft.ML.DiffNft.Diffusion;
using Microsoft.ML.DiffNft.StableDiffusion.Loading;
using Microsoft.ML.DiffNft.Tests.Nouns;
using Xunit;

namespace Microsoft.ML.DiffNft.Tests.StableDiffusion.Loading;

public class SchedulerConfigTests
{
    [Fact]
    public void StableDiffusion15sConfigReadsWithDdimDefaultsForWhatItOmits()
    {
        using var dir = new NounsTestData.TempDir();
        string root = PipelineFolderBuilder.Write(Path.Combine(dir.Path, "sd"), weights: false);
        var c = DiffusersFolder.Open(root).ReadSchedulerConfig();
        Assert.Equal("PNDMScheduler", c.ClassName);
        Assert.Equal(1000, c.NumTrainTimesteps);
        Assert.Equal(0.00085, c.BetaStart);
        Assert.Equal(0.012, c.BetaEnd);
        Assert.Equal(DiffusersBetaSchedule.ScaledLinear, c.BetaSchedule);
        Assert.False(c.ClipSample);
        Assert.False(c.SetAlphaToOne);
        Assert.Equal(1, c.StepsOffset);
        // Not in the file: DDIMScheduler's defaults.
        Assert.Equal(PredictionType.Epsilon, c.PredictionType);
        Assert.Equal(DiffusersTimestepSpacing.Leading, c.TimestepSpacing);
        Assert.Equal(1.0, c.ClipSampleRange);
        Assert.False(c.RescaleBetasZeroSnr);
    }

    [Fact]
    public void AnEmptyConfigIsDdimSchedulersDefaults()
    {
        using var dir = new NounsTestData.TempDir();
        string path = Path.Combine(dir.Path, "scheduler_config.json");
        File.WriteAllText(path, "{}");
        var c = SchedulerConfig.Read(path);
        Assert.Equal(new SchedulerConfig(), c);
        Assert.Equal(0.0001, c.BetaStart);
        Assert.Equal(0.02, c.BetaEnd);
        Assert.Equal(DiffusersBetaSchedule.Linear, c.BetaSchedule);
        Assert.True(c.ClipSample);
        Assert.True(c.SetAlphaToOne);
        Assert.Equal(0, c.StepsOffset);
    }

    [Theory]
    [InlineData("{\"prediction_type\": \"v_prediction\", \"timestep_spacing\": \"trailing\", \"beta_schedule\": \"squaredcos_cap_v2\"}", null)]
    [InlineData("{\"prediction_type\": \"sample\"}", "'prediction_type' = \"sample\"")]
    [InlineData("{\"beta_schedule\": \"sigmoid\"}", "'beta_schedule' = \"sigmoid\"")]
    [InlineData("{\"timestep_spacing\": \"uniform\"}", "'timestep_spacing' = \"uniform\"")]
    [InlineData("{\"num_train_timesteps\": \"1000\"}", "'num_train_timesteps' must be an integer, found \"1000\"")]
    [InlineData("{\"clip_sample\": 0}", "'clip_sample' must be true or false, found 0")]
    [InlineData("{\"beta_start\": 1.5}", "'beta_start' = 1.5")]
    [InlineData("{\"trained_betas\": [0.1, 0.2]}", "'trained_betas'")]
    [InlineData("{\"thresholding\": true}", "'thresholding'")]
    public void UnsupportedValuesNameTheKeyTheValueAndTheFile(string json, string? expected)
    {
        using var dir = new NounsTestData.TempDir();
        string path = Path.Combine(dir.Path, "scheduler_config.json");
        File.WriteAllText(path, json);
        if (expected is null)
        {
            var c = SchedulerConfig.Read(path);
            Assert.Equal(PredictionType.V, c.PredictionType);
            Assert.Equal(DiffusersTimestepSpacing.Trailing, c.TimestepSpacing);
            Assert.Equal(DiffusersBetaSchedule.SquaredCosCapV2, c.BetaSchedule);
            return;
        }
        var ex = Assert.Throws<InvalidDataException>(() => SchedulerConfig.Read(path));
        Assert.Contains(expected, ex.Message);
        Assert.Contains(path, ex.Message);
    }
}
