using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.ML;

namespace MLNetForgetting.MLNet.Persistence;

/// <summary>
/// ML.NET calls a component's loader through reflection, so a <see cref="ModelFormatException"/> thrown
/// while loading reaches the caller of <c>mlContext.Model.Load</c> wrapped in a
/// <see cref="TargetInvocationException"/> (possibly inside further ML.NET exceptions). These helpers
/// find it again. What the caller of <c>mlContext.Model.Load</c> sees (Microsoft.ML 6.0.0, as in 5.0.1):
/// <list type="bullet">
/// <item>missing / altered / unparseable entry, newer format version: <see cref="TargetInvocationException"/>
/// (the transformer chain's loader) → <see cref="TargetInvocationException"/> (ours) →
/// <see cref="ModelFormatException"/>. <c>ToString()</c> shows the whole chain, so logs carry our message.</item>
/// <item>truncated zip: <see cref="FormatException"/> "Failed to open a zip archive" →
/// <see cref="InvalidDataException"/> "End of Central Directory record could not be found." (no code of ours runs).</item>
/// </list>
/// <see cref="LoadChecked(ModelOperationsCatalog, string, out DataViewSchema)"/> is <c>Model.Load</c> that
/// rethrows our exception itself, and turns the truncated-zip case into a <see cref="ModelFormatException"/> naming the file.
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

    /// <summary>
    /// <c>catalog.Load(path, out inputSchema)</c>, except that a <see cref="ModelFormatException"/> raised
    /// inside ML.NET's reflective loader is rethrown unwrapped (original stack kept).
    /// </summary>
    public static ITransformer LoadChecked(this ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        try { return catalog.Load(path, out inputSchema); }
        catch (Exception e) when (Find(e) is { } ours)
        {
            ExceptionDispatchInfo.Throw(ours);
            throw; // unreachable
        }
        catch (FormatException e) when (e.InnerException is InvalidDataException zip)
        {
            // ML.NET's "Failed to open a zip archive" does not say which file; a truncated download or copy is the usual cause.
            throw new ModelFormatException("model zip", $"'{path}' is not a readable zip archive (truncated or damaged): {zip.Message}", null, e);
        }
    }

    /// <summary>Stream form of <see cref="LoadChecked(ModelOperationsCatalog, string, out DataViewSchema)"/>.</summary>
    public static ITransformer LoadChecked(this ModelOperationsCatalog catalog, Stream stream, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        try { return catalog.Load(stream, out inputSchema); }
        catch (Exception e) when (Find(e) is { } ours)
        {
            ExceptionDispatchInfo.Throw(ours);
            throw; // unreachable
        }
        catch (FormatException e) when (e.InnerException is InvalidDataException zip)
        {
            string what = stream is FileStream fs ? $"'{fs.Name}'" : "the stream";
            throw new ModelFormatException("model zip", $"{what} is not a readable zip archive (truncated or damaged): {zip.Message}", null, e);
        }
    }
}
