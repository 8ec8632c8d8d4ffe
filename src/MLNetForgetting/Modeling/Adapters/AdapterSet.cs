using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.Modeling.Adapters;

#pragma warning disable IDE1006 // module names double as parameter-name segments (layer.0.attention.down.weight)

/// <summary>The adapters of one transformer layer: <c>attention</c> (after the attention-output dense layer) and <c>output</c> (after the FFN-output dense layer).</summary>
internal sealed class LayerAdapters : nn.Module
{
    private readonly BottleneckAdapter? attention;
    private readonly BottleneckAdapter? output;

    internal LayerAdapters(BottleneckAdapter? attention, BottleneckAdapter? output) : base("layer")
    {
        this.attention = attention;
        this.output = output;
        RegisterComponents();
    }

    /// <summary>The adapter of the attention-output block, if placed.</summary>
    public BottleneckAdapter? Attention => attention;

    /// <summary>The adapter of the feed-forward-output block, if placed.</summary>
    public BottleneckAdapter? Output => output;
}

/// <summary>
/// One task's adapters for every layer of a backbone, kept outside the backbone so that several
/// adapter sets (a LiST teacher and its student, or several tasks) can share one frozen backbone.
/// <see cref="Install"/> puts this set into the backbone's adapter slots
/// (<see cref="RobertaResidualOutput.Adapter"/>); the model that forwards installs its own set first.
/// Parameter names: <c>layer.{i}.attention.down.weight</c>, <c>layer.{i}.output.up.weight</c>, ...
/// </summary>
internal sealed class AdapterSet : nn.Module
{
    private readonly ModuleList<LayerAdapters> layer;

    /// <summary>Fresh adapters for every layer of a backbone with <paramref name="config"/>.</summary>
    public AdapterSet(RobertaConfig config, AdapterOptions options, Generator? generator = null, Device? device = null) : base("adapters")
    {
        options.Validate();
        Options = options;
        HiddenSize = config.HiddenSize;
        NumLayers = config.NumHiddenLayers;
        BottleneckAdapter? Make(AdapterPlacement site) => (options.Placement & site) != 0
            ? new BottleneckAdapter(config.HiddenSize, options.BottleneckSize, options.Variant, options.InitStd, generator, device)
            : null;
        layer = new ModuleList<LayerAdapters>(Enumerable.Range(0, config.NumHiddenLayers)
            .Select(_ => new LayerAdapters(Make(AdapterPlacement.AttentionOutput), Make(AdapterPlacement.FeedForwardOutput))).ToArray());
        RegisterComponents();
    }

    /// <summary>Bottleneck width, variant, initialisation and placement.</summary>
    public AdapterOptions Options { get; }

    /// <summary>d of the backbone this set was built for.</summary>
    public int HiddenSize { get; }

    /// <summary>Number of layers of the backbone this set was built for.</summary>
    public int NumLayers { get; }

    /// <summary>Per-layer adapters.</summary>
    public IReadOnlyList<LayerAdapters> Layers => layer.ToList();

    /// <summary>
    /// Puts these adapters into the slots of <paramref name="backbone"/> (a reference assignment; no
    /// parameter is copied or swapped). Slots this set does not place get a parameter-free pass-through.
    /// </summary>
    public void Install(RobertaForMaskedLM backbone)
    {
        CheckShape(backbone);
        var layers = backbone.Roberta.Encoder.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            var own = layer[i];
            Assign(layers[i].AttentionOutput, own.Attention);
            Assign(layers[i].FeedForwardOutput, own.Output);
        }
    }

    /// <summary>Whether this set is the one installed in <paramref name="backbone"/> now.</summary>
    public bool IsInstalledIn(RobertaForMaskedLM backbone)
    {
        var layers = backbone.Roberta.Encoder.Layers;
        if (layers.Count != NumLayers) return false;
        for (int i = 0; i < layers.Count; i++)
        {
            if (!Holds(layers[i].AttentionOutput, layer[i].Attention)) return false;
            if (!Holds(layers[i].FeedForwardOutput, layer[i].Output)) return false;
        }
        return true;
    }

    /// <summary>Empties every adapter slot of <paramref name="backbone"/> (pass-through), giving back the plain backbone function.</summary>
    public static void Uninstall(RobertaForMaskedLM backbone)
    {
        foreach (var l in backbone.Roberta.Encoder.Layers)
        {
            Assign(l.AttentionOutput, null);
            Assign(l.FeedForwardOutput, null);
        }
    }

    private static void Assign(RobertaResidualOutput slot, BottleneckAdapter? adapter)
    {
        if (adapter is null)
        {
            // One pass-through per slot: a module registered in one parent only, so disposal stays simple.
            if (slot.Adapter is not PassThroughAdapter) slot.Adapter = new PassThroughAdapter();
        }
        else if (!ReferenceEquals(slot.Adapter, adapter)) slot.Adapter = adapter;
    }

    private static bool Holds(RobertaResidualOutput slot, BottleneckAdapter? adapter) =>
        adapter is null ? slot.Adapter is PassThroughAdapter : ReferenceEquals(slot.Adapter, adapter);

    private void CheckShape(RobertaForMaskedLM backbone)
    {
        if (backbone.Config.HiddenSize != HiddenSize || backbone.Config.NumHiddenLayers != NumLayers)
            throw new ArgumentException($"These adapters were built for {NumLayers} layers of width {HiddenSize}; the backbone has {backbone.Config.NumHiddenLayers} layers of width {backbone.Config.HiddenSize}.", nameof(backbone));
    }

    /// <summary>
    /// True for the backbone parameter names that belong to installed adapters
    /// (<c>...attention.output.adapter.down.weight</c>): the freezing rule's "adapter" prefix.
    /// </summary>
    public static bool IsAdapterParameterName(string name) => name.Contains(".adapter.", StringComparison.Ordinal);
}

/// <summary>An empty adapter slot: returns its input unchanged and has no parameters.</summary>
internal sealed class PassThroughAdapter : Module<Tensor, Tensor>
{
    /// <summary>Creates a pass-through.</summary>
    public PassThroughAdapter() : base("adapter") { }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => input.alias();
}
