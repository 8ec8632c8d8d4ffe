using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNetForgetting.MLNet;

/// <summary>
/// Base class of the estimators that produce a <see cref="TorchRowTransformer"/>. Checks the input
/// columns by role at schema-propagation time (<see cref="GetOutputSchema"/>) and again at
/// <see cref="Fit"/>, then hands the data to <see cref="FitCore"/>.
/// </summary>
public abstract class TorchRowEstimator<TTransformer> : IEstimator<TTransformer>
    where TTransformer : TorchRowTransformer
{
    /// <summary>Registers a host named <paramref name="registrationName"/>; its <c>Rand</c> is seeded from the MLContext seed.</summary>
    private protected TorchRowEstimator(IHostEnvironment env, string registrationName)
    {
        ArgumentNullException.ThrowIfNull(env);
        Host = env.Register(LogSources.Prefix + registrationName);
    }

    /// <summary>The ML.NET host (logging channels, seeded random).</summary>
    private protected IHost Host { get; }

    /// <summary>Input columns the fitted transformer will read (what training reads may be more, e.g. a label).</summary>
    private protected abstract IReadOnlyList<ColumnSpec> InputColumns { get; }

    /// <summary>Columns the fitted transformer will add.</summary>
    private protected abstract IReadOnlyList<ColumnSpec> OutputColumns { get; }

    /// <summary>Columns <see cref="Fit"/> needs in addition to <see cref="InputColumns"/> (e.g. a label). Default none.</summary>
    private protected virtual IReadOnlyList<ColumnSpec> TrainingOnlyColumns => Array.Empty<ColumnSpec>();

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.RequireAll(inputSchema, InputColumns);
        SchemaChecks.RequireAll(inputSchema, TrainingOnlyColumns); // as ML.NET trainers check their label here
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (var spec in OutputColumns) columns[spec.Name] = spec.ToSchemaShapeColumn();
        return new SchemaShape(columns.Values);
    }

    /// <summary>Checks the schema, then trains (<see cref="FitCore"/>).</summary>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        SchemaChecks.RequireAll(input.Schema, InputColumns);
        SchemaChecks.RequireAll(input.Schema, TrainingOnlyColumns);
        return FitCore(input);
    }

    /// <summary>Trains on <paramref name="input"/>, whose schema has been checked.</summary>
    private protected abstract TTransformer FitCore(IDataView input);
}
