namespace MLNetForgetting.MLNet;

/// <summary>
/// Where our components' messages appear in <c>MLContext.Log</c>: every one is registered under a name that
/// starts with <see cref="Prefix"/>, so <c>e.Source.StartsWith(LogSources.Prefix)</c> keeps the library's
/// progress lines and warnings and drops ML.NET's own trace lines.
/// </summary>
public static class LogSources
{
    /// <summary>The start of the <c>Source</c> of every message our components write to <c>MLContext.Log</c>.</summary>
    public const string Prefix = "MLNetForgetting.";
}
