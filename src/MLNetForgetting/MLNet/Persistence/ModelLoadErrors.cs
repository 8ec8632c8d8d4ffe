using System.Reflection;

namespace MLNetForgetting.MLNet.Persistence;

/// <summary>
/// ML.NET calls a component's loader through reflection, so a <see cref="ModelFormatException"/> thrown
/// while loading reaches the caller of <c>mlContext.Model.Load</c> wrapped in a
/// <see cref="TargetInvocationException"/> (possibly inside further ML.NET exceptions). These helpers
/// find it again.
/// </summary>
public static class ModelLoadErrors
{
    /// <summary>The first <see cref="ModelFormatException"/> in <paramref name="error"/>'s inner-exception chain, or null.</summary>
    public static ModelFormatException? Find(Exception? error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is ModelFormatException mfe) return mfe;
            if (e is AggregateException agg)
                foreach (var inner in agg.InnerExceptions)
                    if (Find(inner) is { } found) return found;
        }
        return null;
    }
}
