using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetForgetting.MLNet;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.Persistence;
using MLNetForgetting.Runtime;
using TorchSharp;
using static TorchSharp.torch;

// Lets mlContext.Model.Load find the loader by the signature in the zip, with no registration call.
[assembly: LoadableClass(typeof(TorchProjectionTransformer), null, typeof(SignatureLoadModel),
    "MLNetForgetting Torch Projection", TorchProjectionTransformer.LoaderSignature)]

namespace MLNetForgetting.MLNet;

/// <summary>
/// Fits a <see cref="TorchProjectionTransformer"/>: a linear encoder with tanh, <c>y = tanh(W x + b)</c>,
/// trained as the encoder of a tied-size linear autoencoder (minimise ‖D·tanh(Wx+b) + c − x‖²) with Adam.
/// It is the worked example of the plumbing (schema checks, batching, persistence) that the real
/// components use; see <c>docs/mlnet-plumbing.md</c>.
/// </summary>
/// <remarks>
/// Seeding: the estimator registers its own host with the <see cref="MLContext"/>; that host's
/// <c>Rand</c> is derived from the seed passed to <c>new MLContext(seed)</c> (and from how many hosts
/// were registered before it), so a fixed MLContext seed and pipeline give the same weights.
/// <see cref="Options.Seed"/> overrides it. The seed drives both the weight initialisation and
/// the minibatch sampling.
/// </remarks>
internal sealed class TorchProjectionEstimator : TorchRowEstimator<TorchProjectionTransformer>
{
    /// <summary>Settings of <see cref="TorchProjectionEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>Input column: a known-size vector of Single (role "features").</summary>
        public string InputColumnName = "Features";
        /// <summary>Output column: a vector of Single of length <see cref="OutputSize"/> (role "projection").</summary>
        public string OutputColumnName = "Projection";
        /// <summary>Width of the projection.</summary>
        public int OutputSize = 8;
        /// <summary>Number of Adam steps.</summary>
        public int TrainingSteps = 100;
        /// <summary>Adam learning rate.</summary>
        public double LearningRate = 0.01;
        /// <summary>Rows per training step (sampled with replacement from the training rows).</summary>
        public int TrainingBatchSize = 64;
        /// <summary>At most this many rows are read for training.</summary>
        public int MaxTrainingRows = 100_000;
        /// <summary>Rows per forward pass when transforming a data view.</summary>
        public int BatchSize = 64;
        /// <summary>Seed; null uses the MLContext's seeded host random.</summary>
        public int? Seed;
        /// <summary>Device for training and inference; CUDA falls back to the CPU with a warning in the MLContext log.</summary>
        public DeviceOption Device = DeviceOption.Cpu;
    }

    internal const string RegistrationName = "TorchProjection";
    private readonly Options _options;

    internal TorchProjectionEstimator(IHostEnvironment env, Options options) : base(env, RegistrationName)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.InputColumnName);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.OutputColumnName);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.OutputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TrainingSteps, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TrainingBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTrainingRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BatchSize, 1);
        if (!(options.LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(options), options.LearningRate, "LearningRate must be > 0.");
        _options = options;
    }

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> InputColumns => new[] { ColumnSpec.SingleVector(_options.InputColumnName, "features", 0) };

    /// <inheritdoc/>
    private protected override IReadOnlyList<ColumnSpec> OutputColumns => new[] { ColumnSpec.SingleVector(_options.OutputColumnName, "projection", _options.OutputSize) };

    /// <inheritdoc/>
    private protected override TorchProjectionTransformer FitCore(IDataView input)
    {
        var column = input.Schema[_options.InputColumnName];
        int inputSize = column.Type is VectorDataViewType { Size: > 0 } v ? v.Size
            : throw new ArgumentOutOfRangeException(nameof(input),
                $"Schema mismatch for input column '{_options.InputColumnName}' (role: features): expected Vector<Single> of known size, got {column.Type}");

        using var ch = Host.Start("Fit");
        TorchRuntime.EnsureInitialized();
        var device = TorchDevices.Resolve(_options.Device, msg => ch.Warning(msg));
        var data = ColumnBatch.Read(input, new[] { ColumnSpec.SingleVector(_options.InputColumnName, "features", inputSize) }, _options.MaxTrainingRows);
        if (data.Count == 0) throw new InvalidOperationException($"{TorchProjectionTransformer.Component}: the training data has no rows.");

        int seed = _options.Seed ?? Host.Rand.Next();
        var rng = new Random(seed);
        int n = data.Count, d = inputSize, k = _options.OutputSize;
        var flat = new float[n * d];
        for (int r = 0; r < n; r++) data.Vectors(0)[r].CopyTo(flat, r * d);

        var losses = new List<float>(_options.TrainingSteps);
        Tensor encW, encB;
        using (var all = torch.tensor(flat, new long[] { n, d }, device: device))
        {
            // Parameter takes over the tensor's native handle, so only the parameters need disposing.
            var parameters = new[]
            {
                InitUniform(new long[] { k, d }, d, rng, device), // encoder weight W
                InitUniform(new long[] { k }, d, rng, device),    // encoder bias b
                InitUniform(new long[] { d, k }, k, rng, device), // decoder weight D
                InitUniform(new long[] { d }, k, rng, device),    // decoder bias c
            }.Select(t => new TorchSharp.Modules.Parameter(t, requires_grad: true)).ToArray();
            try
            {
                using var adam = torch.optim.Adam(parameters, lr: _options.LearningRate);
                for (int step = 0; step < _options.TrainingSteps; step++)
                {
                    using var scope = torch.NewDisposeScope();
                    var idx = new long[Math.Min(_options.TrainingBatchSize, n)];
                    for (int i = 0; i < idx.Length; i++) idx[i] = rng.Next(n);
                    var x = all.index_select(0, torch.tensor(idx, device: device));
                    var h = torch.tanh(x.matmul(parameters[0].t()) + parameters[1]);
                    var reconstruction = h.matmul(parameters[2].t()) + parameters[3];
                    var loss = torch.nn.functional.mse_loss(reconstruction, x);
                    adam.zero_grad();
                    loss.backward();
                    adam.step();
                    losses.Add(loss.item<float>());
                }
                encW = parameters[0].detach().cpu().clone();
                encB = parameters[1].detach().cpu().clone();
            }
            finally
            {
                foreach (var p in parameters) p.Dispose();
            }
        }
        ch.Info($"TorchProjection: {losses.Count} steps, loss {(losses.Count > 0 ? $"{losses[0]:G4} -> {losses[^1]:G4}" : "n/a")}");
        var config = new TorchProjectionTransformer.Config(_options.InputColumnName, _options.OutputColumnName, d, k, _options.BatchSize, _options.Device);
        try { return new TorchProjectionTransformer(Host, config, encW, encB, losses) { TrainingSeed = seed }; }
        finally { encW.Dispose(); encB.Dispose(); }
    }

    // PyTorch's nn.Linear default range U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn in managed code:
    // TorchSharp 0.107's nn.init.uniform_ ignores its generator argument, and the global torch seed is
    // shared with every other thread.
    private static Tensor InitUniform(long[] shape, int fanIn, Random rng, Device device)
    {
        double bound = 1.0 / Math.Sqrt(fanIn);
        var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
        for (int i = 0; i < values.Length; i++) values[i] = (float)((rng.NextDouble() * 2 - 1) * bound);
        return torch.tensor(values, shape, device: device);
    }
}

/// <summary>
/// The fitted projection <c>y = tanh(W x + b)</c> (see <see cref="TorchProjectionEstimator"/>). Saved
/// inside ML.NET model zips as <c>weights.safetensors</c> (<c>encoder.weight</c> [out, in],
/// <c>encoder.bias</c> [out]) and <c>config.json</c>.
/// </summary>
internal sealed class TorchProjectionTransformer : TorchRowTransformer
{
    internal const string LoaderSignature = "MlnfTorchProjection";
    internal const string Component = "MLNetForgetting.TorchProjection";
    internal const int CurrentFormatVersion = 1;
    internal const string WeightsEntry = "weights.safetensors";
    internal const string ConfigEntry = "config.json";

    private static VersionInfo VersionInfo => ComponentVersionInfo("MLNFTPRJ", LoaderSignature);

    internal sealed record Config(
        [property: JsonPropertyName("inputColumnName")] string InputColumnName,
        [property: JsonPropertyName("outputColumnName")] string OutputColumnName,
        [property: JsonPropertyName("inputSize")] int InputSize,
        [property: JsonPropertyName("outputSize")] int OutputSize,
        [property: JsonPropertyName("batchSize")] int BatchSize,
        [property: JsonPropertyName("device")] DeviceOption Device);

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Converters = { new JsonStringEnumConverter() } };

    private readonly Config _config;
    private readonly Tensor _weight, _bias; // on _device
    private readonly Device _device;
    private readonly IReadOnlyList<ColumnSpec> _inputs, _outputs;

    internal TorchProjectionTransformer(IHostEnvironment env, Config config, Tensor weightCpu, Tensor biasCpu, IReadOnlyList<float> trainingLosses)
        : base(env, TorchProjectionEstimator.RegistrationName)
    {
        if (config.InputSize < 1 || config.OutputSize < 1 || config.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(config), config, "Sizes must be positive.");
        if (!weightCpu.shape.SequenceEqual(new long[] { config.OutputSize, config.InputSize }) || !biasCpu.shape.SequenceEqual(new long[] { config.OutputSize }))
            throw new ArgumentException($"Weight shapes [{string.Join(",", weightCpu.shape)}] / [{string.Join(",", biasCpu.shape)}] do not match the config ({config.OutputSize}x{config.InputSize}).");
        _config = config;
        BatchSize = config.BatchSize;
        using (var ch = Host.Start("Device")) _device = TorchDevices.Resolve(config.Device, msg => ch.Warning(msg));
        // Own copies (copy: true), outside any caller's dispose scope; the caller keeps its tensors.
        _weight = weightCpu.to(_device, copy: true).DetachFromDisposeScope();
        _bias = biasCpu.to(_device, copy: true).DetachFromDisposeScope();
        TrainingLosses = trainingLosses;
        _inputs = new[] { ColumnSpec.SingleVector(config.InputColumnName, "features", config.InputSize) };
        _outputs = new[] { ColumnSpec.SingleVector(config.OutputColumnName, "projection", config.OutputSize) };
    }

    /// <summary>Loss per training step of the fit that produced this transformer (empty after a load: not saved).</summary>
    public IReadOnlyList<float> TrainingLosses { get; }

    /// <summary>The seed the fit used (null after a load: not saved).</summary>
    public int? TrainingSeed { get; internal init; }

    /// <summary>Input vector length.</summary>
    public int InputSize => _config.InputSize;

    /// <summary>Projection width.</summary>
    public int OutputSize => _config.OutputSize;

    /// <inheritdoc/>
    internal override IReadOnlyList<ColumnSpec> InputColumns => _inputs;

    /// <inheritdoc/>
    internal override IReadOnlyList<ColumnSpec> OutputColumns => _outputs;

    /// <inheritdoc/>
    private protected override string ComponentName => Component;

    /// <inheritdoc/>
    private protected override int FormatVersion => CurrentFormatVersion;

    /// <inheritdoc/>
    private protected override VersionInfo GetVersionInfo() => VersionInfo;

    /// <inheritdoc/>
    private protected override void ComputeBatch(ColumnBatch inputs, ColumnBatch outputs)
    {
        int n = inputs.Count, d = _config.InputSize, k = _config.OutputSize;
        var flat = new float[n * d];
        var rows = inputs.Vectors(0);
        for (int r = 0; r < n; r++) rows[r].CopyTo(flat, r * d);
        // Tensors created here belong to the dispose scope RunBatch opened around this call.
        var x = torch.tensor(flat, new long[] { n, d }, device: _device);
        var y = torch.tanh(x.matmul(_weight.t()) + _bias).cpu();
        var values = y.data<float>().ToArray();
        var outRows = outputs.Vectors(0);
        for (int r = 0; r < n; r++) Array.Copy(values, r * k, outRows[r], 0, k);
    }

    /// <inheritdoc/>
    private protected override IReadOnlyDictionary<string, byte[]> GetArchiveEntries() => new Dictionary<string, byte[]>
    {
        [WeightsEntry] = SafeTensors.ToBytes(new Dictionary<string, Tensor> { ["encoder.weight"] = _weight, ["encoder.bias"] = _bias }),
        [ConfigEntry] = JsonSerializer.SerializeToUtf8Bytes(_config, JsonOptions),
    };

    /// <summary>ML.NET's loader entry point (found through <see cref="LoadableClassAttribute"/>).</summary>
    private static TorchProjectionTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        var entries = LoadArchive(ctx, VersionInfo, Component, CurrentFormatVersion, WeightsEntry, ConfigEntry);
        Config? config;
        try { config = JsonSerializer.Deserialize<Config>(entries[ConfigEntry], JsonOptions); }
        catch (JsonException e) { throw ComponentArchive.Corrupt(Component, ConfigEntry, e.Message, e); }
        if (config is null || string.IsNullOrEmpty(config.InputColumnName) || string.IsNullOrEmpty(config.OutputColumnName))
            throw ComponentArchive.Corrupt(Component, ConfigEntry, "column names are missing");

        Dictionary<string, Tensor> tensors;
        try { tensors = SafeTensors.Read(entries[WeightsEntry], out _, WeightsEntry); }
        catch (InvalidDataException e) { throw ComponentArchive.Corrupt(Component, WeightsEntry, e.Message, e); }
        try
        {
            if (!tensors.TryGetValue("encoder.weight", out var w) || !tensors.TryGetValue("encoder.bias", out var b))
                throw ComponentArchive.Corrupt(Component, WeightsEntry, "tensor 'encoder.weight' or 'encoder.bias' is missing");
            try { return new TorchProjectionTransformer(env, config, w, b, Array.Empty<float>()); }
            catch (ArgumentException e) { throw ComponentArchive.Corrupt(Component, WeightsEntry, e.Message, e); }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
