using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetForgetting.MLNet.Persistence;
using TorchSharp;

namespace MLNetForgetting.MLNet;

/// <summary>
/// Base class of our fitted, torch-backed row-to-row transformers. A derived class supplies only its
/// input and output <see cref="ColumnSpec"/>s, <see cref="ComputeBatch"/> over plain .NET arrays, and
/// the archive entries it saves; this class does schema checks with role-named errors, output-schema
/// construction (vector sizes, key types with KeyValues), batched <see cref="Transform"/>, the
/// one-row mapper behind <c>CreatePredictionEngine</c>, and saving through <see cref="ComponentArchive"/>.
/// </summary>
/// <remarks>
/// <para><b>Batching.</b> <see cref="Transform"/> returns a lazy view whose cursor reads up to
/// <see cref="BatchSize"/> input rows ahead, buffers the pass-through columns it serves, and runs one
/// <see cref="ComputeBatch"/> for the whole block the first time an output of that block is read. When
/// no output column is requested the cursor passes rows straight through and computes nothing.</para>
/// <para><b>Threads.</b> One transformer may serve several prediction engines and cursors on several
/// threads. Each cursor and row owns its buffers; <see cref="ComputeBatch"/> calls are serialised by a
/// per-transformer lock unless <see cref="AllowConcurrentCompute"/> is overridden to return true
/// (safe when the forward pass mutates no module state, e.g. an eval-mode module without buffers
/// updated in forward). Every call runs inside <c>torch.NewDisposeScope()</c> and <c>torch.no_grad()</c>,
/// both of which are per thread.</para>
/// <para><b>Not IDisposable, on purpose.</b> A <c>PredictionEngine</c> owns its transformer by default
/// (<c>PredictionEngineOptions.OwnsTransformer</c> = true) and disposes it, and a
/// <c>TransformerChain</c> disposes its parts; one engine going away would free the weights under every
/// other engine sharing the model. Torch tensors held by a transformer are released by TorchSharp's
/// finalizers when the transformer is collected.</para>
/// </remarks>
public abstract class TorchRowTransformer : ITransformer
{
    private readonly object _computeGate = new();
    private int _batchSize = 32;

    /// <summary>Registers a host named <paramref name="registrationName"/> with <paramref name="env"/>.</summary>
    private protected TorchRowTransformer(IHostEnvironment env, string registrationName)
    {
        ArgumentNullException.ThrowIfNull(env);
        Host = env.Register(LogSources.Prefix + registrationName);
    }

    /// <summary>The ML.NET host (channels for logging, exception context, seeded random).</summary>
    private protected IHost Host { get; }

    /// <summary>Rows per <see cref="ComputeBatch"/> call in <see cref="Transform"/> (the prediction engine uses 1).</summary>
    public int BatchSize
    {
        get => _batchSize;
        private protected set => _batchSize = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(BatchSize), value, "Batch size must be ≥ 1.");
    }

    /// <summary>
    /// Precision of the matrix products when this model computes (<see cref="Runtime.MatmulPrecision.BFloat16"/>:
    /// mixed precision, faster on CPUs with AVX-512 BF16 or AMX; outputs differ from float32 in the third
    /// significant digit). A runtime setting: not saved in the zip, so set it again after loading.
    /// </summary>
    public Runtime.MatmulPrecision InferencePrecision { get; set; }

    /// <summary>The input columns the component reads, with their roles.</summary>
    internal abstract IReadOnlyList<ColumnSpec> InputColumns { get; }

    /// <summary>The columns the component adds (an existing column of the same name is hidden).</summary>
    internal abstract IReadOnlyList<ColumnSpec> OutputColumns { get; }

    /// <summary>
    /// Computes <paramref name="outputs"/> rows 0..Count-1 from <paramref name="inputs"/>. Called inside a
    /// dispose scope and <c>no_grad</c>, under the compute lock unless <see cref="AllowConcurrentCompute"/>.
    /// Output vector rows are pre-allocated with the column's size: write into them.
    /// </summary>
    private protected abstract void ComputeBatch(ColumnBatch inputs, ColumnBatch outputs);

    /// <summary>True lets several threads run <see cref="ComputeBatch"/> at once. Default false (serialised).</summary>
    private protected virtual bool AllowConcurrentCompute => false;

    /// <summary>Stable component name written into the archive manifest and used in load errors.</summary>
    private protected abstract string ComponentName { get; }

    /// <summary>The archive format version this build writes (and the highest it reads).</summary>
    private protected abstract int FormatVersion { get; }

    /// <summary>
    /// ML.NET's header for our components: an 8-character model signature, a loader signature of at most
    /// 24 characters, and our assembly as the loader. The header version stays 1.1 for good; our own
    /// format evolves through <see cref="FormatVersion"/> in the archive manifest.
    /// </summary>
    private protected static VersionInfo ComponentVersionInfo(string modelSignature, string loaderSignature) => new(
        modelSignature: modelSignature,
        verWrittenCur: 0x00010001,
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: loaderSignature,
        loaderAssemblyName: typeof(TorchRowTransformer).Assembly.FullName);

    /// <summary>ML.NET's model header version info (8-char model signature, loader signature ≤ 24 chars).</summary>
    private protected abstract VersionInfo GetVersionInfo();

    /// <summary>The entries to save (weights as safetensors, config as JSON, vocabulary files…).</summary>
    private protected abstract IReadOnlyDictionary<string, byte[]> GetArchiveEntries();

    /// <summary>Always true: every output depends on its own row only.</summary>
    public bool IsRowToRowMapper => true;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        SchemaChecks.RequireAll(inputSchema, InputColumns);
        var builder = new DataViewSchema.Builder();
        // Input columns keep their indices 0..n-1 (hidden ones included); ours follow and hide same-named inputs.
        builder.AddColumns(inputSchema);
        foreach (var spec in OutputColumns) builder.AddColumn(spec.Name, spec.ToDataViewType(), spec.OutputAnnotations());
        return builder.ToSchema();
    }

    /// <summary>Returns a lazy, batched view of <paramref name="input"/> with the output columns added.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var modelInputs = SchemaChecks.RequireAll(input.Schema, InputColumns);
        return new TorchBatchDataView(this, input, GetOutputSchema(input.Schema), modelInputs);
    }

    /// <summary>A one-row-at-a-time mapper (batch size 1); this is what <c>CreatePredictionEngine</c> uses.</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var modelInputs = SchemaChecks.RequireAll(inputSchema, InputColumns);
        return new TorchRowMapper(this, inputSchema, GetOutputSchema(inputSchema), modelInputs);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ComponentArchive.Save(ctx, ComponentName, FormatVersion, GetArchiveEntries());
    }

    /// <summary>
    /// For a derived class's <c>static Create(IHostEnvironment, ModelLoadContext)</c>: checks ML.NET's
    /// header, then reads and validates the archive (see <see cref="ComponentArchive.Load"/>).
    /// </summary>
    private protected static IReadOnlyDictionary<string, byte[]> LoadArchive(ModelLoadContext ctx, VersionInfo versionInfo,
        string componentName, int readableFormatVersion, params string[] requiredEntries)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        ctx.CheckAtModel(versionInfo);
        return ComponentArchive.Load(ctx, componentName, readableFormatVersion, requiredEntries);
    }

    private long _computeBatchCalls;

    /// <summary>Number of <see cref="ComputeBatch"/> calls so far (tests check the batching with it).</summary>
    internal long ComputeBatchCalls => Interlocked.Read(ref _computeBatchCalls);

    internal void RunBatch(ColumnBatch inputs, ColumnBatch outputs)
    {
        outputs.Count = inputs.Count;
        if (inputs.Count == 0) return;
        Interlocked.Increment(ref _computeBatchCalls);
        if (AllowConcurrentCompute) { RunScoped(inputs, outputs); return; }
        lock (_computeGate) RunScoped(inputs, outputs);
    }

    private void RunScoped(ColumnBatch inputs, ColumnBatch outputs)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        using var precision = Modeling.Autocast.Enable(InferencePrecision);
        ComputeBatch(inputs, outputs);
    }
}
