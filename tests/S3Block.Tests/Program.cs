using S3Block.ObjectStore;
using S3Block.ObjectStore.Local;

// xunit v3 test projects are executables; this entry point also serves as a child process for cross-process tests.
if (args is ["--race-create", var root, var name])
{
    using var store = new LocalDirectoryObjectStore(root);
    try
    {
        await store.PutAsync("race", System.Text.Encoding.UTF8.GetBytes(name), PutCondition.CreateOnly, CancellationToken.None);
        Console.WriteLine("won");
    }
    catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.PreconditionFailed)
    {
        Console.WriteLine("lost");
    }

    return 0;
}

return await Xunit.Runner.InProc.SystemConsole.ConsoleRunner.Run(args).ConfigureAwait(false);
