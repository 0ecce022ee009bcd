namespace Microsoft.ML.DiffNft.FineTuning;

/// <summary>How the fine-tuner turns rewards into weight updates.</summary>
public enum FineTuneMode
{
    /// <summary>
    /// Policy gradient (DDPO/DPOK): sample trajectories with the stochastic DDIM policy, score the final images, and
    /// maximise the PPO clipped objective on per-prompt advantages, with the exact per-step KL to the base model.
    /// Works with any reward, differentiable or not.
    /// </summary>
    Ppo,

    /// <summary>
    /// Reward backpropagation (DRaFT-K / AlignProp): differentiate the reward through the last K sampler steps into the
    /// weights. Needs a differentiable reward; usually far fewer reward queries than PPO, with more risk of reward hacking.
    /// </summary>
    Backprop,
}

/// <summary>How PPO normalises rewards into advantages.</summary>
public enum AdvantageNormalization
{
    /// <summary>
    /// Group statistics (GRPO style): each image's reward minus the mean of the K images of its prompt in the same
    /// iteration, divided by their standard deviation. Needs at least 2 images per prompt.
    /// </summary>
    Group,

    /// <summary>
    /// Running statistics per prompt (DDPO's stat tracker): mean and standard deviation of the prompt's most recent
    /// <see cref="FineTuneOptions.StatBufferSize"/> rewards across iterations, falling back to the whole batch's
    /// statistics until the prompt has <see cref="FineTuneOptions.StatMinCount"/> rewards.
    /// </summary>
    RunningPerPrompt,
}
