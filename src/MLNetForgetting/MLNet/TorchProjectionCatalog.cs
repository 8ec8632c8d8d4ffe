using Microsoft.ML.Data;
using MLNetForgetting.MLNet;

// Catalog extensions live in Microsoft.ML, as ML.NET's own packages do, so `using Microsoft.ML;` finds them.
namespace Microsoft.ML;

/// <summary><c>mlContext.Transforms.TorchProjection(...)</c>.</summary>
internal static class TorchProjectionCatalog
{
    /// <summary>
    /// A learned tanh projection of a known-size float vector column to <paramref name="outputSize"/> floats
    /// (demo of the MLNetForgetting torch plumbing).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the output vector column.</param>
    /// <param name="inputColumnName">Name of the input vector column; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="outputSize">Width of the projection.</param>
    public static TorchProjectionEstimator TorchProjection(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null, int outputSize = 8) =>
        TorchProjection(catalog, new TorchProjectionEstimator.Options
        {
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName ?? outputColumnName,
            OutputSize = outputSize,
        });

    /// <summary>A learned tanh projection configured by <paramref name="options"/>.</summary>
    public static TorchProjectionEstimator TorchProjection(this TransformsCatalog catalog, TorchProjectionEstimator.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new TorchProjectionEstimator(CatalogUtils.GetEnvironment(catalog), options);
    }
}
