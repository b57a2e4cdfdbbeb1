// A tiny main-based test runner (no JUnit download is possible here): each
// test prints one line, the last line is the summary, the exit code is
// non-zero on any failure. Each test must also leave no native object behind.
package io.confkit

import java.io.Closeable
import kotlin.system.exitProcess

class TestFailure(message: String) : AssertionError(message)

object Tests {
    private val tests = ArrayList<Pair<String, () -> Unit>>()

    fun test(name: String, body: () -> Unit) {
        tests.add(name to body)
    }

    fun run(filter: String?): Int {
        var passed = 0
        var failed = 0
        for ((name, body) in tests) {
            if (filter != null && !name.contains(filter)) continue
            val before = Confkit.liveObjects()
            val start = System.nanoTime()
            val error: Throwable? = try {
                body()
                val after = Confkit.liveObjects()
                if (after != before) TestFailure("left ${after - before} native object(s) alive") else null
            } catch (t: Throwable) {
                t
            }
            val ms = (System.nanoTime() - start) / 1_000_000
            if (error == null) {
                passed++
                println("PASS  $name (${ms} ms)")
            } else {
                failed++
                println("FAIL  $name (${ms} ms): $error")
                error.stackTrace.take(12).forEach { println("        at $it") }
                error.cause?.let { println("      caused by $it") }
            }
        }
        println("kotlin: $passed passed, $failed failed")
        return failed
    }
}

fun test(name: String, body: () -> Unit) = Tests.test(name, body)

fun fail(message: String): Nothing = throw TestFailure(message)

fun assertTrue(condition: Boolean, message: () -> String = { "expected true" }) {
    if (!condition) fail(message())
}

fun <T> assertEq(expected: T, actual: T, what: String = "value") {
    if (expected != actual) fail("$what: expected <$expected>, got <$actual>")
}

inline fun <reified E : Throwable> assertThrows(block: () -> Unit): E {
    try {
        block()
    } catch (e: Throwable) {
        if (e is E) return e
        throw TestFailure("expected ${E::class.java.simpleName}, got $e")
    }
    fail("expected ${E::class.java.simpleName}, nothing was thrown")
}

/** Expects a [ConfkitException] with [status] whose message contains [messagePart]. */
inline fun expectError(status: ConfkitStatus, messagePart: String, block: () -> Unit): ConfkitException {
    val e = assertThrows<ConfkitException>(block)
    assertEq(status, e.status, "status of \"${e.message}\"")
    assertEq(status.code, e.code, "raw code")
    assertTrue(e.message?.contains(messagePart) == true) { "message \"${e.message}\" lacks \"$messagePart\"" }
    return e
}

/** Closes everything added to it, in reverse order, even when the body throws. */
class Closer : Closeable {
    private val items = ArrayList<AutoCloseable>()

    fun <T : AutoCloseable> add(item: T): T {
        items.add(item)
        return item
    }

    override fun close() {
        var first: Throwable? = null
        for (item in items.asReversed()) {
            try {
                item.close()
            } catch (t: Throwable) {
                if (first == null) first = t
            }
        }
        items.clear()
        if (first != null) throw first
    }
}

inline fun <R> closing(block: (Closer) -> R): R = Closer().use(block)

@Suppress("UNCHECKED_CAST")
fun jsonObj(text: String): Map<String, Any?> = MiniJson.obj(text)

@Suppress("UNCHECKED_CAST")
fun Map<String, Any?>.obj(key: String): Map<String, Any?> =
    this[key] as? Map<String, Any?> ?: fail("no object \"$key\" in $this")

fun Map<String, Any?>.str(key: String): String = this[key] as? String ?: fail("no string \"$key\" in $this")

/** The single event of a list, of type [E]. */
inline fun <reified E : Event> List<Event>.only(): E {
    assertEq(1, size, "event count in $this")
    return this[0] as? E ?: fail("expected ${E::class.java.simpleName}, got ${this[0]}")
}

fun main(args: Array<String>) {
    val watchdogSecs = (System.getProperty("confkit.test.timeout") ?: "300").toLong()
    val watchdog = Thread {
        try {
            Thread.sleep(watchdogSecs * 1000)
        } catch (e: InterruptedException) {
            return@Thread
        }
        System.err.println("kotlin: watchdog fired after $watchdogSecs s (deadlock?); thread dump:")
        for ((t, stack) in Thread.getAllStackTraces()) {
            System.err.println("\"${t.name}\" ${t.state}")
            stack.forEach { System.err.println("    at $it") }
        }
        println("kotlin: 0 passed, 1 failed")
        Runtime.getRuntime().halt(3)
    }
    watchdog.isDaemon = true
    watchdog.start()

    println("${Confkit.version} (ABI ${Confkit.abiVersion}), JNA ${com.sun.jna.Native.VERSION}, " +
        "Java ${System.getProperty("java.version")}")
    if (System.getProperty("confkit.device.only") == "true") {
        // A device library (no authority): only what a phone app uses.
        DeviceOnlyTests.register()
        exitProcess(if (Tests.run(args.firstOrNull()) == 0) 0 else 1)
    }
    AbiTests.register()
    ValueTests.register()
    FlowTests.register()
    ErrorTests.register()
    LifetimeTests.register()
    ConcurrencyTests.register()
    ReviewTests.register()
    ClientTests.register()
    ReadmeTests.register()
    // Always last: nothing may be left alive once everything is closed.
    LifetimeTests.registerFinal()

    val failed = Tests.run(args.firstOrNull())
    exitProcess(if (failed == 0) 0 else 1)
}
