import { httpRouter } from "convex/server";
import { streamChat } from "./pts";

const http = httpRouter();

http.route({ path: "/pts-stream", method: "POST", handler: streamChat });

export default http;
