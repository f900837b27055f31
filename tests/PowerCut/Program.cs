using System.Globalization;

namespace S3Block.Tests.PowerCut;

/// <summary>
/// <c>PowerCut workload OPTIONS</c> writes the device and marks FLUSHes; <c>PowerCut check OPTIONS</c> replays the log
/// to the marks and checks each. Options are <c>--name value</c> pairs (see <see cref="WorkloadSettings"/> and
/// <see cref="CheckSettings"/>); run in the test VM by tests/Vm.Tests/PowerCutTests.cs.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args.Length % 2 != 1)
        {
            Console.Error.WriteLine("usage: PowerCut workload|check --option value ...");
            return 2;
        }

        var options = new Dictionary<string, string>();
        for (var i = 1; i < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        string S(string name) => options.TryGetValue(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        long L(string name) => long.Parse(S(name), CultureInfo.InvariantCulture);
        int I(string name) => int.Parse(S(name), CultureInfo.InvariantCulture);
        switch (args[0])
        {
            case "workload":
                return new Workload(new WorkloadSettings(
                    S("device"), S("dm-name"), S("history"), I("seed"), L("volume-bytes"), L("region-bytes"), I("threads"), I("writes"),
                    I("flush-gap-min"), I("flush-gap-max"), I("max-unflushed"))).Run();
            case "check":
                return await new Checker(new CheckSettings(
                    S("log"), S("replay-file"), S("replay-device"), S("cow-device"), S("history"), S("mount"), S("volume"),
                    L("volume-bytes"), L("region-bytes"), I("threads"), I("max-marks"), I("seed"), L("journal-segment-bytes"),
                    L("journal-capacity-bytes"), L("cache-budget-bytes"))).RunAsync();
            default:
                Console.Error.WriteLine($"unknown command {args[0]}");
                return 2;
        }
    }
}
