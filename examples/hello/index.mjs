// A first function: greets whoever the event names.
export const handler = async (event, context) => {
  console.log(`greeting ${event.name ?? "world"}`);
  return { message: `Hello, ${event.name ?? "world"}!`, requestId: context.awsRequestId };
};
