using System.Globalization;

namespace DiffNft.Cli.Commands;

/// <summary>
/// The one reading of every <c>--minutes</c> option: a positive, finite number of minutes, or none. Zero, negative,
/// NaN and infinite budgets are refused before any work (they used to save untrained models or end in .NET's own
/// messages).
/// </summary>
internal static class MinutesBudget
{
    /// <summary>The budget as a time span; null when the option was not given.</summary>
    /// <param name="minutes">The option's value.</param>
    /// <param name="option">The option's name for the message (for example <c>--minutes</c>).</param>
    public static TimeSpan? ToTimeSpan(double? minutes, string option = "--minutes")
    {
        if (minutes is not { } m) return null;
        // TimeSpan holds about 1.5e10 minutes; a budget of 100 years is already meaningless.
        if (!(m > 0 && m <= 60 * 24 * 365 * 100.0))
            throw new ArgumentException($"{option} must be a positive number of minutes (at most 100 years), got {m.ToString(CultureInfo.InvariantCulture)}.");
        return TimeSpan.FromMinutes(m);
    }
}
