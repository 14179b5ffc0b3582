"use node";
import { action } from "./_generated/server";

// Runs in Convex's Node executor: its console inspects every argument, and an error thrown
// outside the action's promise chain fails the action as the process event it is.
export const timed = action({
  args: {},
  handler: async () => {
    console.time("t");
    console.timeLog("t", "extra");
    console.timeEnd("t");
    console.log("it's", 1);
  },
});

export const throwsLater = action({
  args: {},
  handler: async () =>
    await new Promise(() => {
      setTimeout(() => {
        throw new Error("Yikes");
      }, 0);
    }),
});
