using Microsoft.ML;
using MLNetForgetting.Persistence;

namespace MLNetForgetting.MLNet.Persistence;

/// <summary>Saving ML.NET model zips so that an interrupted save never replaces a good file with a half-written one.</summary>
public static class ModelFiles
{
    /// <summary>
    /// <c>catalog.Save(model, inputSchema, path)</c>, but atomic: ML.NET's own <c>Save(path)</c> writes
    /// in place, so a crash or kill midway leaves a truncated zip under the real name. This writes to a
    /// temporary file beside <paramref name="path"/>, flushes it to disk and renames it over the target
    /// (see <see cref="AtomicFile"/>); leftovers of an earlier killed save are removed.
    /// </summary>
    public static void SaveAtomic(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.Write(path, stream => catalog.Save(model, inputSchema, stream));
    }
}
