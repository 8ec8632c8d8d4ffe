using MLNetForgetting.Runtime;
using MLNetForgetting.Tests.Infrastructure;
using TorchSharp;

namespace MLNetForgetting.Tests.Runtime;

[TestClass]
public sealed class TorchRuntimeTests
{
    [TestMethod]
    public void Torch_loads_and_a_few_training_steps_reduce_the_loss()
    {
        TorchRuntime.EnsureInitialized();
        TorchRuntime.EnsureInitialized(); // idempotent
        Assert.IsGreaterThanOrEqualTo(1, TorchRuntime.IntraOpThreads);

        // y = x·w* for a fixed w*: a tiny linear model must fit it with SGD.
        torch.random.manual_seed(1);
        using var x = torch.randn(64, 4);
        using var wTrue = torch.tensor(new float[] { 1f, -2f, 0.5f, 3f }).reshape(4, 1);
        using var y = x.matmul(wTrue);
        using var model = torch.nn.Linear(4, 1);
        using var opt = torch.optim.SGD(model.parameters(), 0.1);
        var losses = new List<float>();
        for (int step = 0; step < 10; step++)
        {
            using var scope = torch.NewDisposeScope();
            var loss = torch.nn.functional.mse_loss(model.forward(x), y);
            opt.zero_grad();
            loss.backward();
            opt.step();
            losses.Add(loss.item<float>());
        }
        for (int i = 1; i < losses.Count; i++)
            Assert.IsLessThan(losses[i - 1], losses[i], $"loss went up at step {i}: {string.Join(", ", losses)}");
        Assert.IsLessThan(losses[0] * 0.5f, losses[^1]);
    }

    [TestMethod]
    public void Threads_default_to_processor_count_and_follow_MLNF_TORCH_THREADS()
    {
        // The count is set once per process, so each setting gets a fresh process.
        var byDefault = ChildProcess.RunChecked("torch-threads", Array.Empty<string>(),
            new Dictionary<string, string?> { [TorchRuntime.ThreadsVariable] = null });
        Assert.AreEqual($"{Environment.ProcessorCount} {Environment.ProcessorCount}", byDefault.StdOut.Trim());
        var one = ChildProcess.RunChecked("torch-threads", Array.Empty<string>(),
            new Dictionary<string, string?> { [TorchRuntime.ThreadsVariable] = "1" });
        Assert.AreEqual("1 1", one.StdOut.Trim());
        var bad = ChildProcess.Run("torch-threads", Array.Empty<string>(),
            environment: new Dictionary<string, string?> { [TorchRuntime.ThreadsVariable] = "many" });
        Assert.AreNotEqual(0, bad.ExitCode);
        StringAssert.Contains(bad.StdErr, "MLNF_TORCH_THREADS='many' is not a positive integer");
    }

    /// <summary>Prints "&lt;TorchRuntime.IntraOpThreads&gt; &lt;torch.get_num_threads()&gt;".</summary>
    [ChildAction("torch-threads")]
    public static int PrintThreads(string[] args)
    {
        TorchRuntime.EnsureInitialized();
        Console.WriteLine($"{TorchRuntime.IntraOpThreads} {torch.get_num_threads()}");
        return 0;
    }
}

[TestClass]
public sealed class TorchDevicesTests
{
    [TestMethod]
    public void Cpu_resolves_to_cpu_without_notice()
    {
        var notices = new List<string>();
        var device = TorchDevices.Resolve(DeviceOption.Cpu, notices.Add);
        Assert.AreEqual(DeviceType.CPU, device.type);
        Assert.IsEmpty(notices);
    }

    [TestMethod]
    public void Cuda_falls_back_to_cpu_with_a_notice_on_this_machine()
    {
        Assert.IsFalse(TorchDevices.CudaAvailable(), "this test assumes the CPU natives (no CUDA) of the CI machine");
        var notices = new List<string>();
        var device = TorchDevices.Resolve(DeviceOption.Cuda, notices.Add);
        Assert.AreEqual(DeviceType.CPU, device.type);
        Assert.HasCount(1, notices);
        StringAssert.Contains(notices[0], "CUDA is not available");
    }

    [TestMethod]
    public void Auto_picks_cpu_quietly_when_cuda_is_missing()
    {
        var notices = new List<string>();
        var device = TorchDevices.Resolve(DeviceOption.Auto, notices.Add);
        Assert.AreEqual(DeviceType.CPU, device.type);
        Assert.IsEmpty(notices);
    }
}
